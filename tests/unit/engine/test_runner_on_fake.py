"""The runner's paths on the fake backend: success, a failing step, a timeout, a budget stop, a contract
retry, Ctrl-C and resume. The real engine, agent and gateway; no Docker."""

from __future__ import annotations

import json

import pytest

from tests.integration.scripted_runs import bash, say
from tests.integration.scripted_runs import write_file as write
from tests.unit.engine.fake_runs import FakeProject, interrupt_when, process_is_alive
from wave_sandbox.engine import infrastructure
from wave_sandbox.errors import RunInterrupted

CHAIN = """\
kind: WavePipeline
metadata:
  name: chain
steps:
  - id: first
    persona: navigator
    exec:
      source: "Look at {{ input }}"
    output_artifacts:
      - name: note
        path: output/note.md
  - id: second
    persona: navigator
    dependencies: [first]
    memory:
      inject_artifacts:
        - step: first
          artifact: note
          as: note
    exec:
      source: "Go on"
    output_artifacts:
      - name: summary
        path: output/summary.md
  - id: third
    persona: summarizer
    dependencies: [second]
    exec:
      source: "Finish"
  - id: aside
    persona: summarizer
    exec:
      source: "Independent"
"""

WRITES_NOTE = [[write("output/note.md", "first note\n")], say("first done")]
# Paths in the model's tool calls are not rewritten by the fake: steps use relative paths only.
COPIES_NOTE = [[bash("echo summary > output/summary.md")], say("second done")]


def test_a_run_completes_injects_artifacts_delivers_and_records_every_step(tmp_path):
    project = FakeProject(tmp_path, CHAIN, {"steps": {"first": WRITES_NOTE, "second": COPIES_NOTE}})
    run = project.run()
    assert run.error is None, run.error
    assert run.result.status == "completed" and run.result.exit_code == 0
    assert (project.repo / "output" / "summary.md").read_text() == "summary\n"
    second_file = json.loads((run.record_folder() / "steps" / "second" / "step.json").read_text())
    assert "- /wave/artifacts/note: artifact 'note' of step 'first'" in second_file["prompt"]
    record = run.record()
    assert record["status"] == "completed"
    assert {step: data["status"] for step, data in record["steps"].items()} == dict.fromkeys(
        ["first", "second", "third", "aside"], "completed"
    )
    assert record["steps"]["first"]["summary"] == "first done"
    assert (run.record_folder() / "steps" / "first" / "step.json").is_file()
    assert project.sandbox_folders() == [], "every step's sandbox is destroyed"
    assert run.backend.runs == {} and run.backend.gateway_ports == {}, "the run was torn down"


def test_a_failing_step_skips_its_dependents_and_the_rest_still_runs(tmp_path):
    killed_agent = [[bash("kill -9 $PPID")], say("never reached")]
    project = FakeProject(tmp_path, CHAIN, {"steps": {"first": WRITES_NOTE, "second": killed_agent}})
    run = project.run()
    assert run.result.status == "failed" and run.result.exit_code != 0
    assert run.states("second") == ["started", "failed"]
    assert "agent exited with status" in run.message("second")
    assert run.states("third") == ["skipped"] and "needs second, which failed" in run.message("third")
    assert run.states("aside") == ["started", "completed"]
    record = run.record()
    assert record["status"] == "failed" and record["failure"].startswith("step second failed")
    assert record["steps"]["third"]["status"] == "skipped"
    assert project.sandbox_folders() == []


def test_a_step_past_its_timeout_fails_as_timed_out(tmp_path):
    project = FakeProject(tmp_path, CHAIN, {"steps": {"first": [[bash("sleep 60")], say("late")]}})
    run = project.run(step_timeout_s=3, only=["first"])
    assert run.result.status == "failed"
    assert run.message("first").startswith("timed out after 3s")
    assert run.record()["steps"]["first"]["status"] == "failed"
    assert project.sandbox_folders() == []


def test_a_step_over_its_token_budget_is_stopped_by_the_gateway(tmp_path, monkeypatch):
    monkeypatch.setattr(infrastructure, "STEP_TOKENS", 3000)  # one scripted turn costs about 2,200 tokens
    many_turns = [[bash("true")], [bash("true")], [bash("true")], say("never reached")]
    project = FakeProject(tmp_path, CHAIN, {"steps": {"first": many_turns}})
    run = project.run(only=["first"])
    assert run.result.status == "failed"
    assert "budget" in run.message("first").lower(), run.message("first")
    transcript = (run.record_folder() / "steps" / "first" / "transcript.jsonl").read_text().splitlines()
    assert len(transcript) < 4, "the gateway refused before the script ran out"


CONTRACT = """\
kind: WavePipeline
metadata:
  name: contract
steps:
  - id: triage
    persona: navigator
    exec:
      source: "Triage"
    output_artifacts:
      - name: triage
        path: output/triage.json
        type: json
    handover:
      contract:
        type: json_schema
        source: output/triage.json
        schema_path: schemas/small.schema.json
"""
SMALL_SCHEMA = {"type": "object", "required": ["severity"], "properties": {"severity": {"enum": ["P1", "P2"]}}}


def test_a_broken_contract_goes_back_to_the_agent_once_and_the_fix_passes(tmp_path):
    script = {"steps": {"triage": [
        [write("output/triage.json", '{"severity": "P0"}')], say("first try"),
        [write("output/triage.json", '{"severity": "P1"}')], say("fixed"),
    ]}}  # fmt: skip
    project = FakeProject(tmp_path, CONTRACT, script)
    (project.definitions / "schemas").mkdir()
    (project.definitions / "schemas" / "small.schema.json").write_text(json.dumps(SMALL_SCHEMA))
    run = project.run()
    assert run.error is None and run.result.status == "completed", run.events
    step = run.record()["steps"]["triage"]
    assert any("severity" in error for error in step["retry_errors"]), step
    folder = run.record_folder() / "steps" / "triage"
    assert (folder / "step.attempt-1.json").is_file()
    assert "retry with the errors" in (folder / "agent.log").read_text()
    assert json.loads((project.repo / "output" / "triage.json").read_text()) == {"severity": "P1"}


def test_ctrl_c_kills_running_steps_keeps_finished_artifacts_and_resume_runs_only_the_rest(tmp_path):
    hangs = [[bash("echo $$ > output/pid; sleep 60")], say("never reached")]
    project = FakeProject(tmp_path, CHAIN, {"steps": {"first": WRITES_NOTE, "second": hangs}})
    pid_files = lambda: list(project.fake_base.glob("*/workspace/output/pid"))  # noqa: E731
    stop = interrupt_when(lambda: any(path.stat().st_size for path in pid_files()))
    try:
        run = project.run(max_parallel=1)
    finally:
        stop.set()
    assert isinstance(run.error, RunInterrupted), run.error
    record = run.record()
    assert record["status"] == "interrupted"
    assert record["steps"]["first"]["status"] == "completed"
    assert record["steps"]["second"]["status"] == "interrupted"
    assert (run.record_folder() / "steps" / "first" / "artifacts" / "note.md").read_text() == "first note\n"
    assert project.sandbox_folders() == [], "the running step's sandbox was destroyed"

    project.write_script({"steps": {"second": COPIES_NOTE}})
    resumed = project.resume(record["run_id"])
    assert resumed.error is None and resumed.result.status == "completed", resumed.error
    assert sorted(resumed.started_steps()) == ["aside", "second", "third"], "first is not run again"
    assert (project.repo / "output" / "summary.md").read_text() == "summary\n"
    assert resumed.record()["status"] == "completed"


@pytest.fixture(autouse=True)
def no_step_process_outlives_its_test(tmp_path):
    yield
    for pid_file in tmp_path.rglob("output/pid"):
        text = pid_file.read_text().strip()
        assert not (text and process_is_alive(int(text))), f"step process {text} survived"
