"""Reading what a running step does from its transcript lines (messages and streamed events)."""

import json
import time

from wave_sandbox.engine import events as ev
from wave_sandbox.engine.events import RunEvent
from wave_sandbox.engine.step_activity import ActivityWatcher, exchange_activity, exchange_tokens, tool_call_text


def test_tool_calls_read_as_the_tool_and_its_telling_argument():
    assert tool_call_text("bash", {"command": "pytest   -q\n tests"}) == "bash: pytest -q tests"
    assert tool_call_text("read_file", {"path": "src/db.py"}) == "read_file src/db.py"
    assert tool_call_text("grep", {"pattern": "PoolTimeout", "path": "src"}) == "grep src"
    assert tool_call_text("list_files", None) == "list_files"
    assert len(tool_call_text("bash", {"command": "x" * 500})) == 120


def test_the_last_tool_call_of_a_message_or_answering():
    message = {"response": {"content": [{"type": "text", "text": "hm"},
                                        {"type": "tool_use", "name": "read_file", "input": {"path": "a.py"}},
                                        {"type": "tool_use", "name": "bash", "input": {"command": "ls"}}]}}
    assert exchange_activity(message) == "bash: ls"
    assert exchange_activity({"response": {"content": [{"type": "text", "text": "done"}]}}) == "answering"
    assert exchange_activity({"response": "upstream said no"}) is None and exchange_activity([]) is None


def test_a_streamed_tool_call_is_assembled_from_its_deltas():
    records = [
        {"event": "content_block_start", "data": {"type": "content_block_start", "index": 1,
                                                  "content_block": {"type": "tool_use", "name": "edit_file"}}},
        {"event": "content_block_delta", "data": {"type": "content_block_delta", "index": 1,
                                                  "delta": {"type": "input_json_delta", "partial_json": '{"pa'}}},
        {"event": "content_block_delta", "data": {"type": "content_block_delta", "index": 1,
                                                  "delta": {"type": "input_json_delta", "partial_json": 'th": "b.py"}'}}},
    ]
    assert exchange_activity({"response": records}) == "edit_file b.py"


def test_tokens_count_cache_reads_and_writes_as_input():
    usage = {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 100,
             "cache_creation_input_tokens": 7, "service_tier": "x"}
    assert exchange_tokens({"usage": usage}) == (117, 5)
    assert exchange_tokens({"usage": None}) == (0, 0)


def test_the_watcher_forwards_events_and_adds_activity_from_appended_lines(tmp_path):
    seen = []
    watcher = ActivityWatcher(lambda run_id: tmp_path, seen.append, poll_s=0.05, heartbeat_s=0.2)
    (tmp_path / "s1").mkdir()
    transcript = tmp_path / "s1" / "transcript.jsonl"
    transcript.write_text(json.dumps({"response": {"content": []}, "usage": {"input_tokens": 1}}) + "\n")  # earlier
    watcher(RunEvent(ev.STEP_STARTED, "r", "p", step_id="s1", persona="auditor"))
    line = {"response": {"content": [{"type": "tool_use", "name": "bash", "input": {"command": "make"}}]},
            "usage": {"input_tokens": 30, "output_tokens": 4}}
    with open(transcript, "a") as handle:
        handle.write(json.dumps(line) + "\n" + '{"partial')
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(event.state == ev.HEARTBEAT for event in seen):
        time.sleep(0.05)
    watcher(RunEvent(ev.STEP_COMPLETED, "r", "p", step_id="s1"))
    watcher(RunEvent(ev.RUN_COMPLETED, "r", "p"))
    states = [event.state for event in seen]
    activity = next(event for event in seen if event.state == ev.STEP_ACTIVITY)
    assert (activity.activity, activity.tokens_in, activity.tokens_out) == ("bash: make", 30, 4)
    assert states[0] == ev.STEP_STARTED and ev.HEARTBEAT in states and states[-1] == ev.RUN_COMPLETED
    assert watcher.thread is not None and not watcher.thread.is_alive()
