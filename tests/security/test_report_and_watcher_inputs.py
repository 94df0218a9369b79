"""Hostile run-record contents against the run report and the live activity watcher.

- A step's `artifacts` folder (or its transcript) that is a symlink to a host folder: the host file
  is reachable through the link, and neither report.md nor report.html shows it.
- A model's streamed tool call whose JSON input nests 100 000 deep, and an agent's tool result posing
  as evidence that nests as deep: the watcher reads the line (its tokens count) and keeps watching
  (its thread alive, the next tool call shown); the report is written and skips the false evidence.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from wave_sandbox.engine import events as ev
from wave_sandbox.engine.events import RunEvent
from wave_sandbox.engine.records import RunRecord
from wave_sandbox.engine.step_activity import ActivityWatcher
from wave_sandbox.report.written import write_run_report

RUN_ID = "20260101-000000-f00d"
HOST_SECRET = "host-secret-7f3a9c"
DEEP = "[" * 100_000


def make_record(repo: Path, steps: list[str]) -> Path:
    folder = repo / ".wave" / "runs" / RUN_ID
    for step in steps:
        (folder / "steps" / step).mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({
        "run_id": RUN_ID, "pipeline": "p", "status": "completed", "started_at": "2026-01-01T00:00:00+00:00",
        "duration_ms": 1000, "steps": {step: {"status": "completed", "persona": "auditor"} for step in steps},
    }))
    return folder


def test_a_symlinked_artifacts_folder_or_transcript_does_not_put_host_files_in_the_report(tmp_path):
    host = tmp_path / "host"
    host.mkdir()
    (host / "secret.md").write_text(f"# {HOST_SECRET}\n")
    evidence = {"verdict": f"guilty {HOST_SECRET}", "confident": True, "suspects": []}
    line = {"request": {"messages": [{"role": "user", "content": [
        {"type": "tool_result", "content": json.dumps(evidence)}]}]}}
    (host / "transcript.jsonl").write_text(json.dumps(line) + "\n")
    folder = make_record(tmp_path / "repo", ["linked", "own"])
    (folder / "steps" / "linked" / "artifacts").symlink_to(host)
    (folder / "steps" / "linked" / "transcript.jsonl").symlink_to(host / "transcript.jsonl")
    (folder / "steps" / "own" / "artifacts").mkdir()
    (folder / "steps" / "own" / "artifacts" / "notes.md").write_text("own notes\n")
    assert HOST_SECRET in (folder / "steps" / "linked" / "artifacts" / "secret.md").read_text()  # reachable
    markdown, page = write_run_report(RunRecord.load(tmp_path / "repo", RUN_ID))
    for written in (markdown.read_text(), page.read_text()):
        assert "own notes" in written  # the record's own artifacts are shown
        assert HOST_SECRET not in written and "secret.md" not in written


def streamed_tool_call(name: str, partial_json: str, output_tokens: int) -> dict:
    events = [{"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "name": name}},
              {"type": "content_block_delta", "index": 0,
               "delta": {"type": "input_json_delta", "partial_json": partial_json}}]
    return {"response": [{"data": data} for data in events], "usage": {"output_tokens": output_tokens}}


def test_a_deeply_nested_streamed_tool_input_does_not_stop_the_watcher(tmp_path):
    seen: list[RunEvent] = []
    watcher = ActivityWatcher(lambda run_id: tmp_path, seen.append, poll_s=0.05, heartbeat_s=60)
    (tmp_path / "s1").mkdir()
    transcript = tmp_path / "s1" / "transcript.jsonl"
    transcript.touch()
    watcher(RunEvent(ev.STEP_STARTED, "r", "p", step_id="s1", persona="auditor"))
    with open(transcript, "a") as handle:
        handle.write(json.dumps(streamed_tool_call("bash", DEEP, 7)) + "\n")
    _wait_for(lambda: any(event.tokens_out == 7 for event in seen))
    assert watcher.thread.is_alive()  # the hostile line was read (its tokens counted) and the watcher goes on
    with open(transcript, "a") as handle:
        handle.write(json.dumps(streamed_tool_call("read_file", '{"path": "after.py"}', 1)) + "\n")
    _wait_for(lambda: any(event.activity == "read_file after.py" for event in seen))
    watcher(RunEvent(ev.RUN_COMPLETED, "r", "p"))
    assert [event.activity for event in seen if event.state == ev.STEP_ACTIVITY] == ["bash", "read_file after.py"]


def test_evidence_nesting_100000_deep_in_a_tool_result_is_skipped_and_the_report_written(tmp_path):
    folder = make_record(tmp_path / "repo", ["scan"])
    hostile = '{"verdict": "x", "suspects": ' + DEEP
    honest = json.dumps({"verdict": "found it", "confident": True, "suspects": [
        {"rank": 1, "commit": "a" * 40, "subject": "the culprit", "score": 3, "reasons": ["touches pool"]}]})
    lines = [{"request": {"messages": [{"role": "user", "content": [{"type": "tool_result", "content": text}]}]}}
             for text in (hostile, honest)]
    (folder / "steps" / "scan" / "transcript.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    markdown, page = write_run_report(RunRecord.load(tmp_path / "repo", RUN_ID))
    assert "found it" in markdown.read_text() and "the culprit" in page.read_text()


def _wait_for(condition, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not condition():
        time.sleep(0.05)
    assert condition()
