"""In the container: fork as fast as possible for a few seconds; report how many forks worked.

Bounded (at most MAX_FORKS, for FORK_SECONDS) so that a missing pids limit fails the test instead of
the host. Children sleep until the end. Run as `python3 - MARKER < fork_without_limit.py`; every
process carries MARKER in its command line, so the host can count them.
"""

import errno
import json
import os
import time

FORK_SECONDS = 4.0
MAX_FORKS = 1500
deadline = time.monotonic() + FORK_SECONDS
forks, failures, first_error = 0, 0, None
while time.monotonic() < deadline and forks < MAX_FORKS:
    try:
        child = os.fork()
    except OSError as error:
        failures += 1
        first_error = first_error or errno.errorcode.get(error.errno, str(error.errno))
        time.sleep(0.01)
        continue
    if child == 0:
        time.sleep(max(0.0, deadline - time.monotonic()) + 1.0)
        os._exit(0)
    forks += 1
print(json.dumps({"forks": forks, "failures": failures, "first_error": first_error}))
