"""Entry point: `python3 -m wave_sandbox.agent /wave/step.json` (see entrypoint.py)."""

from wave_sandbox.agent.entrypoint import main

raise SystemExit(main())
