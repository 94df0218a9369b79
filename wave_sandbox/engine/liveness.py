"""Which runs are alive: each run holds an exclusive lock file for as long as its process lives.

`clean` (and every `run` on start) removes Docker objects only of runs whose lock is free, so a
concurrent live run is never touched; a crashed process releases its lock automatically.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path


def runtime_folder() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    folder = Path(base) / f"wave-sandbox-{os.getuid()}" / "live-runs"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


class RunLease:
    """Held by a running run; released when the run ends or its process dies."""

    def __init__(self, run_id: str):
        self.path = runtime_folder() / f"{run_id}.lock"
        self._descriptor: int | None = None

    def acquire(self) -> "RunLease":
        self._descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(self._descriptor, str(os.getpid()).encode())
        return self

    def release(self) -> None:
        if self._descriptor is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._descriptor)
            self._descriptor = None

    def __enter__(self) -> "RunLease":
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()


def is_run_alive(run_id: str) -> bool:
    path = runtime_folder() / f"{run_id}.lock"
    if not path.exists():
        return False
    try:
        descriptor = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


def stale_run_ids() -> list[str]:
    """Runs whose process ended without releasing its lease (kill -9, a crash, a power cut): their
    lock file is still there but nobody holds it. The cheap sign that a sweep has work to do."""
    return sorted(path.stem for path in runtime_folder().glob("*.lock") if not is_run_alive(path.stem))


def forget_lease(run_id: str) -> None:
    """Remove a dead run's lock file, under its lock so that a run taking it at that moment keeps it."""
    path = runtime_folder() / f"{run_id}.lock"
    try:
        descriptor = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        path.unlink(missing_ok=True)
    except BlockingIOError:
        pass
    finally:
        os.close(descriptor)


def kept_folder() -> Path:
    folder = runtime_folder().parent / "kept-runs"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def mark_kept(run_id: str) -> None:
    """`--keep`: the run's containers, gateway socket folder and clone stay (also after a crash) until `clean`."""
    (kept_folder() / run_id).touch()


def kept_run_ids() -> frozenset[str]:
    return frozenset(path.name for path in kept_folder().iterdir())


def forget_kept(run_ids: frozenset[str] | set[str]) -> None:
    for run_id in run_ids:
        (kept_folder() / run_id).unlink(missing_ok=True)


def _boot_marker() -> Path:
    return runtime_folder().parent / "boot-id"


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def booted_since_last_sweep() -> bool:
    """True after each boot (and on first use) until `remember_this_boot`: a reboot leaves no unheld
    lease when /tmp is emptied, yet its runs' stopped containers and volumes stay on the engine."""
    boot_id = _boot_id()
    try:
        return boot_id is not None and _boot_marker().read_text().strip() != boot_id
    except OSError:
        return boot_id is not None


def remember_this_boot() -> None:
    boot_id = _boot_id()
    if boot_id is not None:
        _boot_marker().write_text(boot_id + "\n")
