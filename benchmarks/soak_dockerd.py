"""Restart the Docker daemon in the middle of the soak: systemd's way when systemd runs the machine,
else stop dockerd (SIGTERM, as `systemctl stop` would) and start it again with the same command line.

Never on a machine others share: the soak's `--no-dockerd-restart` leaves the daemon alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

READY_TIMEOUT_S = 90


def restart_dockerd(log_path: Path) -> float:
    """Restart the daemon and wait until it answers again; return the seconds it was away."""
    started = time.monotonic()
    if _runs_under_systemd():
        subprocess.run(["systemctl", "restart", "docker"], check=True)
    else:
        command = _stop_dockerd()
        with open(log_path, "ab") as log:
            subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
    _wait_until_answering()
    return time.monotonic() - started


def _runs_under_systemd() -> bool:
    try:
        return Path("/proc/1/comm").read_text().strip() == "systemd"
    except OSError:
        return False


def _stop_dockerd() -> list[str]:
    """SIGTERM dockerd, wait for it to exit; return its command line to start it again."""
    pid = int(subprocess.run(["pidof", "dockerd"], capture_output=True, text=True, check=True).stdout.split()[0])
    command = [part.decode() for part in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if part]
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while Path(f"/proc/{pid}").exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"dockerd (pid {pid}) did not stop within {READY_TIMEOUT_S} s")
        time.sleep(0.2)
    return command


def _wait_until_answering() -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"dockerd did not answer within {READY_TIMEOUT_S} s of its restart")
        time.sleep(0.5)
