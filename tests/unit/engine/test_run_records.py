"""run.json: one model, one set of defaults; records of the first release and of today open in
`show`, `runs`, `artifacts`, `logs` and `resume`, and keep their JSON shape when written back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wave_sandbox.cli.app import app, register_commands
from wave_sandbox.engine.launch import resumed_branch_of, resumed_run_options
from wave_sandbox.engine.planner import StepState
from wave_sandbox.engine.records import RunRecord, list_run_records
from wave_sandbox.engine.run_file import (
    DEFAULT_STEP_TIMEOUT_S, RunFile, RunStatus, StepStatus, default_max_parallel,
)
from wave_sandbox.engine.runner import RunOptions, completed_steps
from wave_sandbox.resources import builtin_pipelines_dir
from wave_sandbox.workspace.layout import runs_root

register_commands()
runner = CliRunner()
FIXTURES = Path(__file__).parent / "records"


def install(repo: Path, fixture: str) -> RunRecord:
    """A fixture record placed in `repo` as the version that wrote it left it."""
    data = json.loads((FIXTURES / fixture).read_text())
    data["pipeline_file"] = str(builtin_pipelines_dir() / "incident-response.yaml")
    folder = runs_root(repo) / data["run_id"]
    (folder / "steps" / "triage" / "artifacts").mkdir(parents=True)
    (folder / "steps" / "triage" / "artifacts" / "triage.json").write_text("{}")
    (folder / "run.json").write_text(json.dumps(data, indent=2))
    return RunRecord.load(repo, data["run_id"])


@pytest.fixture(params=["run-first-release.json", "run-today.json"])
def record(request, tmp_path) -> RunRecord:
    return install(tmp_path, request.param)


def test_both_records_open_with_typed_statuses(record):
    recorded = record.run_file
    assert recorded.status in (RunStatus.FAILED, RunStatus.INTERRUPTED)
    assert recorded.steps["triage"].status is StepStatus.COMPLETED
    assert completed_steps(record) == {"triage"}
    assert [r.run_id for r in list_run_records(record.repo)] == [record.run_id]


def test_show_runs_artifacts_and_logs_read_them(record):
    repo = str(record.repo)
    shown = runner.invoke(app, ["show", record.run_id, "--repo", repo])
    assert shown.exit_code == 0, shown.output
    assert f"Run {record.run_id}: incident-response {record.run_file.status}" in shown.output
    assert "triage            completed    " in shown.output and "2.1k Triage complete" in shown.output
    listed = runner.invoke(app, ["runs", "--repo", repo])
    assert listed.exit_code == 0 and record.run_id in listed.output and "incident-response" in listed.output
    artifacts = runner.invoke(app, ["artifacts", "latest", "--repo", repo])
    assert artifacts.exit_code == 0 and "triage.json" in artifacts.output
    assert runner.invoke(app, ["logs", "latest", "--repo", repo]).exit_code == 0


def test_resume_of_a_first_release_record_takes_the_one_set_of_defaults(tmp_path):
    old = install(tmp_path, "run-first-release.json")
    options = resumed_run_options(old.run_file, None, keep=False, upstream_url=None)
    assert (options.max_parallel, options.step_timeout_s) == (4, 600)
    assert options.output_display == "output" and options.attachments == []
    assert options.model_spec == "scripted:examples/incident-response.script.yaml"
    assert resumed_branch_of(old) is None


def test_resume_of_todays_record_keeps_every_option(tmp_path):
    today = install(tmp_path, "run-today.json")
    options = resumed_run_options(today.run_file, "mock", keep=True, upstream_url=None)
    assert (options.max_parallel, options.exclude, options.output_display) == (3, ["postmortem"], "../elsewhere/output")
    assert options.attachments == [Path("/tmp/elsewhere/dump.log")] and options.model_spec == "mock"
    branch = resumed_branch_of(today)
    assert branch.start == branch.tip == "0123456789abcdef0123456789abcdef01234567"


def test_run_and_resume_share_their_defaults():
    missing = RunFile.model_validate({"run_id": "x", "options": {}})
    fresh = RunOptions(input_text="", output_dir=Path("output"), output_display="output")
    assert missing.options.max_parallel == fresh.max_parallel == default_max_parallel()
    assert missing.options.step_timeout_s == fresh.step_timeout_s == DEFAULT_STEP_TIMEOUT_S


def test_writing_back_keeps_the_json_shape(tmp_path):
    today = install(tmp_path, "run-today.json")
    before = json.loads((today.folder / "run.json").read_text())
    today.update_step("remediate", status=StepStatus.RUNNING)
    after = json.loads((today.folder / "run.json").read_text())
    assert after["steps"]["remediate"] == {"status": "running"}
    assert {**after, "steps": before["steps"]} == before  # the newer version's key is kept too


def test_a_new_record_writes_what_it_was_given_with_plain_values(tmp_path):
    contents = RunFile(run_id="r1", pipeline="p", status=RunStatus.RUNNING)
    record = RunRecord.create(tmp_path, "r1", contents)
    assert json.loads((record.folder / "run.json").read_text()) == {"run_id": "r1", "pipeline": "p", "status": "running"}


def test_one_step_status_for_planner_records_and_events():
    from wave_sandbox.engine import events

    assert StepState is StepStatus
    assert {events.STEP_COMPLETED, events.STEP_FAILED, events.STEP_SKIPPED} <= {s.value for s in StepStatus}


def test_a_record_that_does_not_fit_is_left_out_of_the_history(tmp_path):
    install(tmp_path, "run-today.json")
    broken = runs_root(tmp_path) / "20261206-000000-ffff"
    broken.mkdir()
    (broken / "run.json").write_text(json.dumps({"status": "exploded"}))
    assert [r.run_id for r in list_run_records(tmp_path)] == ["20261205-091500-cd34"]
    shutil.rmtree(broken)
