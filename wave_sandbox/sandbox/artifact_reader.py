"""Inside a step's container: stop what the step left running, then read its artifacts as data.

Runs in the container (standard library only), passed to ``python3 -I -c`` by ``docker_collect``
and executed as the step's own user, so it reads what the agent could read and sees the container's
mounts, masks included. Usage: ``artifact_reader.py [--stop-others] ROOT MAX_BYTES PATH...``.

1. ``--stop-others``: ``kill(-1, SIGSTOP)`` stops, in one call, every process of the container
   this user may signal but PID 1 and the reader (a process forked during the call is stopped too),
   so nothing can fork or swap files any more; each of them but the container's lifetime process
   (the oldest child of PID 1: the ``sleep`` that ends the container) is then killed, round after
   round until none is left, and the lifetime process is continued. Refused unless PID 1 is tini.
2. Each PATH (relative to ROOT, already checked by the host for ``..`` and control characters) is
   reached by opening one component at a time from ROOT with ``O_NOFOLLOW``: a link at any level is
   never followed. The file is opened only when its ``lstat`` shows a regular file with one link
   within MAX_BYTES, with ``O_NOFOLLOW | O_NONBLOCK``, and ``fstat`` must show the same file.

Output on stdout, per PATH in order, one header line and for ``data`` its bytes:
``missing`` | ``parentlink`` | ``stat MODE NLINK SIZE`` (not taken: the host says why) |
``error TEXT`` | ``data LENGTH``. The host applies the refusal rules (``collection.py``).
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import sys
import time

_MAX_STOP_ROUNDS = 100
_EXIT_NOT_STOPPED = 3
_EXIT_USAGE = 2
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


# ----- stopping the step's leftovers ----------------------------------------------------------------
def stop_every_other_process() -> int:
    """Kill every process but PID 1, the lifetime process and this one; the rounds it took."""
    keep = {1, os.getpid(), *_lifetime_process()}
    try:
        for round_number in range(1, _MAX_STOP_ROUNDS + 1):
            _signal_quietly(-1, signal.SIGSTOP)
            others = [pid for pid in _live_processes() if pid not in keep]
            if not others:
                return round_number
            for pid in others:
                _signal_quietly(pid, signal.SIGKILL)
            time.sleep(min(0.002 * round_number, 0.05))
    finally:
        for pid in keep - {1, os.getpid()}:
            _signal_quietly(pid, signal.SIGCONT)
    raise RuntimeError(f"{len(others)} processes still running after {_MAX_STOP_ROUNDS} rounds")


def _process_facts(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) from /proc/PID/stat, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stream:
            text = stream.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the name before ")" may hold spaces
    return fields[0], int(fields[1]), int(fields[19])


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _live_processes() -> list[int]:
    """Processes that can still run: not zombies, not already dead."""
    live = []
    for pid in _all_pids():
        facts = _process_facts(pid)
        if facts is not None and facts[0] not in ("Z", "X", "x"):
            live.append(pid)
    return live


def _lifetime_process() -> list[int]:
    """The oldest child of PID 1: the container's lifetime process, started before anything the step ran."""
    children = []
    for pid in _all_pids():
        facts = _process_facts(pid)
        if facts is not None and facts[1] == 1 and pid != 1:
            children.append((facts[2], pid))
    return [min(children)[1]] if children else []


def _signal_quietly(pid: int, signal_number: int) -> None:
    try:
        os.kill(pid, signal_number)
    except (ProcessLookupError, PermissionError):
        pass


def _init_is_tini() -> bool:
    """A guard: anywhere but in a sandbox's container, stopping "every other process" must not happen."""
    try:
        with open("/proc/1/cmdline", "rb") as stream:
            program = stream.read().split(b"\0")[0]
    except OSError:
        return False
    return os.path.basename(program) in (b"tini", b"docker-init")


# ----- reading the artifacts ------------------------------------------------------------------------
def read_artifact(root_fd: int, path: str, max_bytes: int) -> tuple[str, bytes]:
    """The header line (without newline) for ``path`` and the bytes that follow it."""
    parts = [part for part in path.split("/") if part not in ("", ".")]
    try:
        folder_fd = _open_parent_folder(root_fd, parts[:-1])
    except _NotTaken as outcome:
        return outcome.header, b""
    try:
        return _read_in_folder(folder_fd, parts[-1], max_bytes)
    finally:
        if folder_fd != root_fd:
            os.close(folder_fd)


class _NotTaken(Exception):
    def __init__(self, header: str):
        super().__init__(header)
        self.header = header


def _open_parent_folder(root_fd: int, folders: list[str]) -> int:
    """A descriptor of the folder holding the file, reached without following any link."""
    current = root_fd
    try:
        for name in folders:
            following = _open_folder(current, name)
            if current != root_fd:
                os.close(current)
            current = following
    except BaseException:
        if current != root_fd:
            os.close(current)
        raise
    return current


def _open_folder(parent_fd: int, name: str) -> int:
    try:
        status = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        raise _NotTaken("missing") from None
    except OSError as exc:
        raise _NotTaken(f"error {exc.strerror}") from None
    if stat.S_ISLNK(status.st_mode):
        raise _NotTaken("parentlink")
    if not stat.S_ISDIR(status.st_mode):
        raise _NotTaken("missing")
    try:
        return os.open(name, _DIRECTORY_FLAGS, dir_fd=parent_fd)
    except OSError as exc:  # swapped since the lstat: a link now (ELOOP, ENOTDIR) or gone
        swapped = exc.errno in (errno.ELOOP, errno.ENOTDIR)
        raise _NotTaken("parentlink" if swapped else f"error {exc.strerror}") from None


def _stat_header(status: os.stat_result, size: int | None = None) -> str:
    return f"stat {status.st_mode} {status.st_nlink} {status.st_size if size is None else size}"


def _read_in_folder(folder_fd: int, name: str, max_bytes: int) -> tuple[str, bytes]:
    try:
        status = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        return "missing", b""
    except OSError as exc:
        return f"error {exc.strerror}", b""
    if not stat.S_ISREG(status.st_mode) or status.st_nlink != 1 or status.st_size > max_bytes:
        return _stat_header(status), b""
    try:
        file_fd = os.open(name, _FILE_FLAGS, dir_fd=folder_fd)
    except OSError as exc:
        return f"error {exc.strerror}", b""
    with os.fdopen(file_fd, "rb") as opened:
        opened_status = os.fstat(opened.fileno())
        same = (opened_status.st_dev, opened_status.st_ino) == (status.st_dev, status.st_ino)
        if not same or not stat.S_ISREG(opened_status.st_mode) or opened_status.st_nlink != 1:
            return _stat_header(opened_status if same else status, size=max_bytes + 1), b""
        content = opened.read(max_bytes + 1)
    if len(content) > max_bytes:
        return _stat_header(opened_status, size=len(content)), b""
    return f"data {len(content)}", content


def read_all(root: str, max_bytes: int, paths: list[str], output) -> None:
    """Write one header (and content) per path to the binary stream ``output``."""
    root_fd = os.open(root, _DIRECTORY_FLAGS)
    try:
        for path in paths:
            header, content = read_artifact(root_fd, path, max_bytes)
            output.write(header.encode("utf-8", "replace") + b"\n" + content)
    finally:
        os.close(root_fd)
    output.flush()


def main(arguments: list[str]) -> int:
    stop = arguments[:1] == ["--stop-others"]
    arguments = arguments[1:] if stop else arguments
    if len(arguments) < 2 or not arguments[1].isdigit():
        print("usage: artifact_reader [--stop-others] ROOT MAX_BYTES PATH...", file=sys.stderr)
        return _EXIT_USAGE
    if stop:
        if not _init_is_tini():
            print("refusing to stop processes: PID 1 is not the sandbox's init", file=sys.stderr)
            return _EXIT_USAGE
        try:
            stop_every_other_process()
        except RuntimeError as exc:
            print(f"could not stop the step's processes: {exc}", file=sys.stderr)
            return _EXIT_NOT_STOPPED
    read_all(arguments[0], int(arguments[1]), arguments[2:], sys.stdout.buffer)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
