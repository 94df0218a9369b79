"""Who made a Docker object: ``<host>:<pid>:<process start time>``, and whether that process lives.

The start time (clock ticks since boot, from ``/proc/<pid>/stat``) tells a live run from a dead one
whose pid was reused. ``clean`` spares the objects of every run whose owner is alive.
"""

from __future__ import annotations

import functools
import os
import socket


def process_start_ticks(pid: int) -> str | None:
    """Field 22 of ``/proc/<pid>/stat``, or None when the process does not exist (or no /proc).

    A zombie (ended, not yet reaped by its parent) does not exist for this purpose: it runs nothing
    and holds nothing, though its pid and start time stay in /proc until its parent waits for it."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat_file:
            stat_line = stat_file.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its closing one.
    fields_after_name = stat_line.rsplit(")", 1)[-1].split()
    if not fields_after_name or fields_after_name[0] in ("Z", "X", "x"):
        return None
    return fields_after_name[19] if len(fields_after_name) > 19 else None


@functools.cache
def current_owner() -> str:
    """The owner label value of this process."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{process_start_ticks(pid) or 0}"


def owner_is_alive(owner: str) -> bool:
    """True while the process named by ``owner`` runs; an owner on another host counts as alive.

    Another host's processes cannot be checked from here, so their objects are spared rather than
    broken under a run that may still be going.
    """
    host, _, rest = owner.partition(":")
    pid_text, _, start_ticks = rest.partition(":")
    if host != socket.gethostname():
        return True
    if not pid_text.isdigit():
        return False
    actual_start = process_start_ticks(int(pid_text))
    if actual_start is None:
        return _pid_exists_without_proc(int(pid_text)) if not os.path.isdir("/proc") else False
    return start_ticks in ("0", actual_start)


def _pid_exists_without_proc(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
