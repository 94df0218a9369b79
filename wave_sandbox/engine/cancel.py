"""`cancel`: stop a live run the way Ctrl-C does, from another terminal.

The run's process is told with SIGTERM, which the CLI turns into the same interrupt as Ctrl-C (a
process started in the background may ignore SIGINT; it never ignores SIGTERM): its running steps'
containers are killed, finished steps' artifacts are kept, the record ends as interrupted and the
run exits 130. The pid comes from the record's owner and is signalled only while that owner (pid
and start time) is alive, so a pid reused by another process is never signalled.
"""

from __future__ import annotations

import os
import signal
import socket
import time

from wave_sandbox.engine.records import RunRecord
from wave_sandbox.engine.run_state import RunState, owner_pid, run_is_alive, run_state
from wave_sandbox.errors import ConfigurationError, WaveSandboxError

POLL_S = 0.1


class CancelTimeout(WaveSandboxError):
    """The run's process did not end within the time given (exit 1)."""


def cancel_run(record: RunRecord, timeout_s: float) -> RunState:
    """Signal the run's process and wait until it has ended; the run's state then.

    Raises:
        ConfigurationError: the run is not running (or runs on another host, or names no process).
        CancelTimeout: its process still runs after `timeout_s`.
    """
    recorded = record.run_file
    state = run_state(recorded)
    if not state.alive:
        raise ConfigurationError(f"run {record.run_id} is not running ({state.label}); there is nothing to cancel")
    pid = owner_pid(recorded)
    if pid is None or not (recorded.owner or "").startswith(f"{socket.gethostname()}:"):
        raise ConfigurationError(f"run {record.run_id} is not run by a process of this machine; stop it where it runs")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while run_is_alive(recorded):
        if time.monotonic() > deadline:
            raise CancelTimeout(f"run {record.run_id} (pid {pid}) is still stopping after {timeout_s:g} s; try again")
        time.sleep(POLL_S)
    return run_state(RunRecord.load(record.repo, record.run_id).run_file)
