"""`status` shows a live run with its current step and elapsed time; `cancel` stops it as Ctrl-C does:
finished steps' artifacts kept, exit 130, the interrupt reported once, the resume command last."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from tests.integration.engine.lifecycle_kit import Scenario, finish, wait_until_step_sleeps
from tests.security.attack_kit import objects_left_after

pytestmark = pytest.mark.docker

NAP_MARKER = "sleep 116.2"


@pytest.fixture(scope="module")
def cancelled(tmp_path_factory, docker, agent_image):
    scenario = Scenario(tmp_path_factory.mktemp("cancel"), "cancelme")
    process = scenario.start(scenario.script(nap_command=NAP_MARKER))
    seen: dict = {"scenario": scenario, "process": process}
    try:
        run_id = seen["run_id"] = scenario.only_run_id()
        wait_until_step_sleeps(docker, scenario, run_id, "nap", NAP_MARKER)
        time.sleep(1.1)
        seen["status"] = scenario.cli("status")
        seen["status_json"] = scenario.cli("status", "--json")
        seen["resume_live"] = scenario.cli("resume", run_id)
        cancelling_at = time.monotonic()
        seen["cancel"] = scenario.cli("cancel", run_id)
        seen["cancel_took_s"] = time.monotonic() - cancelling_at
        seen["stdout"], seen["stderr"] = finish(process, 60)
        seen["status_after"] = scenario.cli("status", run_id)
        seen["cancel_again"] = scenario.cli("cancel", run_id)
        seen["record"] = scenario.record(run_id)
        seen["left"] = objects_left_after(docker, run_id)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return seen


def test_status_shows_the_live_run_with_its_current_step_and_elapsed_time(cancelled):
    run_id = cancelled["run_id"]
    [line] = cancelled["status"].stdout.strip().splitlines()
    assert line.startswith(f"{run_id}  cancelme") and "running" in line and "step: nap" in line, line
    elapsed = int(line.rsplit("s elapsed", 1)[0].rsplit(None, 1)[-1])
    assert elapsed >= 1
    [live] = [entry for entry in json.loads(cancelled["status_json"].stdout) if entry["run_id"] == run_id]
    assert (live["status"], live["alive"], live["current_steps"]) == ("running", True, ["nap"])
    assert live["steps"] == {"plan": "completed", "fix": "completed", "nap": "running"}
    assert live["elapsed_s"] >= 1


def test_resume_of_a_live_run_points_at_cancel(cancelled):
    assert cancelled["resume_live"].returncode == 2
    assert f"wave-sandbox cancel {cancelled['run_id']}" in cancelled["resume_live"].stderr


def test_cancel_stops_the_run_as_ctrl_c_does(cancelled):
    assert cancelled["cancel"].returncode == 0, cancelled["cancel"].stderr
    assert cancelled["cancel"].stdout.strip() == f"Cancelled run {cancelled['run_id']}: interrupted."
    assert cancelled["cancel_took_s"] < 30
    assert cancelled["process"].returncode == 130, cancelled["stderr"]
    record = cancelled["record"]
    assert (record["status"], record["failure"]) == ("interrupted", "interrupted")
    assert [record["steps"][step]["status"] for step in ("plan", "fix", "nap")] == ["completed", "completed", "interrupted"]
    out = cancelled["scenario"].base / "out"
    assert (out / "plan.md").read_text() == "# plan\n" and (out / "fix.md").read_text() == "# fix\n"
    assert not any(cancelled["left"].values()), cancelled["left"]


def test_the_interrupt_is_reported_once_and_the_resume_command_comes_last(cancelled):
    stdout, stderr, run_id = cancelled["stdout"], cancelled["stderr"], cancelled["run_id"]
    assert "Pipeline cancelme interrupted after " in stdout
    assert "failed" not in stdout.split("\n\n")[-1], stdout  # the closing lines: interrupted, not failed
    assert "Error:" not in stderr and "Traceback" not in stderr, stderr
    scenario = cancelled["scenario"]
    assert stderr.rstrip().splitlines()[-1] == f"Resume with: wave-sandbox resume {run_id} --repo {scenario.repo}"


def test_a_run_that_is_not_live_cannot_be_cancelled(cancelled):
    assert "interrupted" in cancelled["status_after"].stdout and "running" not in cancelled["status_after"].stdout
    assert cancelled["cancel_again"].returncode == 2
    assert cancelled["cancel_again"].stderr.strip() == (
        f"Error: run {cancelled['run_id']} is not running (interrupted); there is nothing to cancel")
