"""Whether a process still runs: a zombie (killed, not yet reaped by a container's idle init) counts as gone."""

import time
from pathlib import Path


def process_is_running(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    state = status.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def process_ends_within(pid: int, seconds: float = 2.0) -> bool:
    """SIGKILL is delivered asynchronously: give a killed process a moment to actually die."""
    deadline = time.monotonic() + seconds
    while process_is_running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
