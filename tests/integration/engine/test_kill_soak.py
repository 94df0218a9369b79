"""The kill soak, small: about ten runs under SIGKILL, SIGINT and SIGTERM (no dockerd restart: the
daemon is shared), then `clean`, the leftover, state, artifact and branch checks, and `resume`.

The soak's runs get a temporary folder of their own (TMPDIR), so that the gateway socket folders they make
there are watched while they run and none may be left after `clean` (the soak's own checks count
containers, volumes, clones, and the networks and firewall rules of earlier versions).

`make soak` runs the full one (200 runs, a dockerd restart in the middle)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from tests.integration.conftest import PROJECT
from wave_sandbox.sandbox.gateway_socket import FOLDER_PREFIX


class FolderWatch:
    """Names of the gateway socket folders seen in ``folder`` while it watches (every 0.2 s)."""

    def __init__(self, folder: Path):
        self.folder, self.seen, self._stop = folder, set(), threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            self.seen |= {path.name for path in self.folder.glob(FOLDER_PREFIX + "*")}

    def stop(self) -> set[str]:
        self._stop.set()
        self._thread.join(2)
        return self.seen

pytestmark = [pytest.mark.docker, pytest.mark.soak]


@pytest.mark.timeout(1200)
def test_a_small_kill_soak_leaves_nothing_and_resumes_every_run(agent_image):
    seed = os.environ.get("WAVE_SANDBOX_SOAK_SEED") or str(int.from_bytes(os.urandom(4), "big"))
    soak_tmp = Path(tempfile.mkdtemp(prefix="soak-tmp-"))  # short: a socket's path holds 107 bytes at most
    watch = FolderWatch(soak_tmp)
    try:
        completed = subprocess.run(
            [sys.executable, str(PROJECT / "benchmarks" / "soak.py"), "--runs", "10", "--seed", seed,
             "--no-dockerd-restart"],
            capture_output=True, text=True, timeout=1150, cwd=PROJECT, env={**os.environ, "TMPDIR": str(soak_tmp)},
        )
        seen, left = watch.stop(), sorted(path.name for path in soak_tmp.glob(FOLDER_PREFIX + "*"))
    finally:
        watch.stop()
        shutil.rmtree(soak_tmp, ignore_errors=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert seen, "the soak's runs made no gateway socket folder in their TMPDIR"  # the control of the next line
    assert left == [], f"gateway socket folders left after the soak: {left}"
    assert f"soak: seed {seed}" in completed.stdout.splitlines()[0]
    counts = {}
    for line in completed.stdout.splitlines():
        if line.startswith("  "):
            name, value = line.strip().rsplit(None, 1)
            counts[name.strip()] = value
    assert counts["runs"] == "10"
    for signal_name in ("SIGKILL", "SIGINT", "SIGTERM"):  # the soak attacked: each signal hit a live run
        assert int(counts.get(f"runs given {signal_name}", "0")) >= 1, completed.stdout
    for leftover in ("containers", "networks", "volumes", "firewall rules", "clones"):
        assert counts[f"after the runs: leftover {leftover}"] == "0"
        assert counts[f"after resume: leftover {leftover}"] == "0"
    assert counts.get("after the runs: records saying running", "0") == "0"
    assert counts.get("runs to resume", "0") == counts.get("resumed to completion", "0")
    assert "soak: PASS" in completed.stdout
