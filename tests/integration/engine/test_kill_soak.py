"""The kill soak, small: about ten runs under SIGKILL, SIGINT and SIGTERM (no dockerd restart: the
daemon is shared), then `clean`, the leftover, state, artifact and branch checks, and `resume`.

`make soak` runs the full one (200 runs, a dockerd restart in the middle)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.integration.conftest import PROJECT

pytestmark = pytest.mark.docker


@pytest.mark.timeout(1200)
def test_a_small_kill_soak_leaves_nothing_and_resumes_every_run(agent_image):
    seed = os.environ.get("WAVE_SANDBOX_SOAK_SEED") or str(int.from_bytes(os.urandom(4), "big"))
    completed = subprocess.run(
        [sys.executable, str(PROJECT / "benchmarks" / "soak.py"), "--runs", "10", "--seed", seed,
         "--no-dockerd-restart"],
        capture_output=True, text=True, timeout=1150, cwd=PROJECT,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
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
