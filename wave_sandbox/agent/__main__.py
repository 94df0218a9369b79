"""Entry point: `python3 -m wave_sandbox.agent /wave/step.json` (see entrypoint.py)."""

import os
import sys

from wave_sandbox.agent.entrypoint import main

exit_code = main()
sys.stdout.flush()
sys.stderr.flush()
# Tearing down the anthropic SDK's thousands of modules costs ~0.7 s per step (more under a CPU
# limit); the result line is written and flushed, and nothing else needs a clean interpreter exit.
os._exit(exit_code)
