"""A run's true state from its record and the liveness of the process it names; what `resume --from-step`
runs again; the resume command a failed run ends with."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from wave_sandbox.cli.resume_hint import resume_command_line
from wave_sandbox.engine.failures import one_line_reason
from wave_sandbox.engine.records import RunRecord
from wave_sandbox.engine.resume_plan import rewind_record, steps_to_run_again
from wave_sandbox.engine.run_file import RunFile, RunStatus, StepRecord, StepStatus
from wave_sandbox.engine.run_state import owner_pid, run_state
from wave_sandbox.errors import ConfigurationError
from wave_sandbox.sandbox.owner import current_owner, process_start_ticks
from wave_sandbox.settings.ceilings import combine_policies
from wave_sandbox.spec.loader import load_pipeline


def recorded(owner: str | None, status: RunStatus = RunStatus.RUNNING) -> RunFile:
    started = (datetime.now(timezone.utc) - timedelta(seconds=42)).isoformat()
    return RunFile(run_id="20261206-100000-abcd", pipeline="p", status=status, owner=owner, started_at=started,
                   steps={"a": StepRecord(status=StepStatus.COMPLETED), "b": StepRecord(status=StepStatus.RUNNING)})


def dead_owner() -> str:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    owner = f"{socket.gethostname()}:{child.pid}:{process_start_ticks(child.pid)}"
    child.wait()
    return owner


def test_a_live_run_is_running_with_its_current_step_and_elapsed_time():
    state = run_state(recorded(current_owner()))
    assert (state.status, state.alive, state.label, state.current_steps) == ("running", True, "running", ["b"])
    assert 41 <= state.elapsed_s < 60


def test_a_run_whose_process_is_gone_is_interrupted_and_so_are_its_running_steps():
    state = run_state(recorded(dead_owner()))
    assert (state.status, state.alive, state.label) == ("interrupted", False, "interrupted (process ended)")
    assert state.step_statuses == {"a": "completed", "b": "interrupted"} and state.current_steps == []


def test_a_zombie_owner_counts_as_ended():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    owner = f"{socket.gethostname()}:{child.pid}:{open(f'/proc/{child.pid}/stat').read().rsplit(')', 1)[1].split()[19]}"
    deadline = datetime.now() + timedelta(seconds=10)
    while open(f"/proc/{child.pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z" and datetime.now() < deadline:
        pass
    try:
        assert run_state(recorded(owner)).status is RunStatus.INTERRUPTED  # ended, not yet reaped
    finally:
        child.wait()


def test_a_reused_pid_does_not_make_a_run_alive():
    pid, _, ticks = current_owner().rpartition(":")
    assert run_state(recorded(f"{pid}:{int(ticks) + 1}")).status is RunStatus.INTERRUPTED


def test_a_finished_run_is_what_its_record_says():
    state = run_state(recorded(dead_owner(), RunStatus.FAILED))
    assert (state.status, state.label, state.reason) == ("failed", "failed", None)


def test_the_owner_names_the_pid_to_signal():
    assert owner_pid(recorded(current_owner())) == os.getpid()
    assert owner_pid(recorded(None)) is None


PIPELINE = """\
kind: WavePipeline
metadata: {name: chain}
steps:
  - {id: a, persona: navigator, exec: {source: a}}
  - {id: b, persona: craftsman, dependencies: [a], exec: {source: b}, workspace: {mount: [{source: ./, target: /src, mode: readwrite}]}}
  - {id: c, persona: navigator, dependencies: [a], exec: {source: c}}
  - {id: d, persona: craftsman, dependencies: [c], exec: {source: d}, workspace: {mount: [{source: ./, target: /src, mode: readwrite}]}}
"""


@pytest.fixture
def chain(tmp_path: Path):
    (tmp_path / "chain.yaml").write_text(PIPELINE)
    loaded = load_pipeline(tmp_path / "chain.yaml", tmp_path, combine_policies([]))
    steps = {step: StepRecord(status=StepStatus.COMPLETED) for step in "abcd"}
    record = RunRecord.create(tmp_path, "20261206-100000-abcd", RunFile(
        run_id="20261206-100000-abcd", branch="wave/chain/x", commits=["1" * 40, "2" * 40], steps=steps))
    record.update_step("b", commit="1" * 40)
    record.update_step("d", commit="2" * 40)
    return loaded, record


def test_from_step_runs_the_step_and_its_dependents_again(chain):
    loaded, record = chain
    assert steps_to_run_again(loaded, record, "c") == {"c", "d"}


def test_dropping_a_commit_drops_every_later_one_and_runs_their_steps_again(chain):
    loaded, record = chain
    assert rewind_record(loaded, record, "b") == {"b", "d"}  # d committed on top of b
    assert record.run_file.commits == [] and record.run_file.branch is None
    assert record.run_file.completed_steps() == {"a", "c"}


def test_from_step_names_an_unknown_step(chain):
    loaded, record = chain
    with pytest.raises(ConfigurationError, match="--from-step nope: the pipeline has no such step"):
        steps_to_run_again(loaded, record, "nope")


def test_the_resume_command_names_the_repository_when_elsewhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resume_command_line("r1", tmp_path) == "wave-sandbox resume r1"
    assert resume_command_line("r1", tmp_path / "my repo") == f"wave-sandbox resume r1 --repo '{tmp_path}/my repo'"


def test_a_failure_outside_the_steps_is_recorded_in_one_line():
    assert one_line_reason(ConfigurationError("first line\nsecond")) == "first line"
    assert one_line_reason(FileExistsError(17, "File exists")) == "internal error: FileExistsError: [Errno 17] File exists"
