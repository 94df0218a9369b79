"""The mock model answers from the conversation: write every planned file with the tools the step has,
then end the turn; requests are checked like the real API's (issue 11, item 9)."""

from __future__ import annotations

import base64
import json

from wave_sandbox.gateway import make_upstream, parse_model_spec
from wave_sandbox.gateway.mock_model import MockUpstream, mock_turn
from wave_sandbox.gateway.upstream import UpstreamRequest

TOOLS = [{"name": name, "description": "d", "input_schema": {"type": "object"}} for name in ("bash", "write_file")]


def payload(messages, tools=TOOLS):
    return {"model": "mock", "max_tokens": 100, "messages": messages, "tools": tools}


def test_mock_needs_no_key_and_no_file(tmp_path):
    choice = parse_model_spec("mock", tmp_path, {})
    assert choice.kind == "mock" and choice.describe() == "mock"
    assert isinstance(make_upstream(choice, {}), MockUpstream)


def test_the_first_turn_writes_every_file_then_the_turn_ends():
    files = {".agents/output/a.json": "{}\n", "out/b.md": "# B\n"}
    first = mock_turn(files, payload([{"role": "user", "content": "go"}]))
    calls = [block for block in first.content if block["type"] == "tool_use"]
    assert [(c["name"], c["input"]["path"], c["input"]["content"]) for c in calls] == [
        ("write_file", ".agents/output/a.json", "{}\n"), ("write_file", "out/b.md", "# B\n")]
    results = [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}]
    last = mock_turn(files, payload([{"role": "user", "content": "go"}, {"role": "assistant", "content": "x"},
                                     {"role": "user", "content": results}]))
    assert [block["type"] for block in last.content] == ["text"] and "mock" in last.content[0]["text"]


def test_without_write_file_the_mock_writes_through_bash():
    tools = [tool for tool in TOOLS if tool["name"] == "bash"]
    turn = mock_turn({"out/n.txt": "it's \"quoted\"\n"}, payload([{"role": "user", "content": "go"}], tools))
    command = turn.content[1]["input"]["command"]
    encoded = command.split("printf %s ")[1].split(" ")[0]
    assert base64.b64decode(encoded).decode() == "it's \"quoted\"\n" and "> out/n.txt" in command


def test_the_upstream_answers_per_step_and_refuses_a_malformed_request():
    upstream = MockUpstream()
    upstream.plan_step("triage", {"out/t.json": "{}"})
    good = payload([{"role": "user", "content": "go"}])
    response = upstream.send(UpstreamRequest("triage", "/v1/messages", "", {}, b"", good))
    message = json.loads(response.body)
    assert message["stop_reason"] == "tool_use" and message["content"][1]["input"]["path"] == "out/t.json"
    other = json.loads(upstream.send(UpstreamRequest("other", "/v1/messages", "", {}, b"", good)).body)
    assert other["stop_reason"] == "end_turn"
    bad = upstream.send(UpstreamRequest("triage", "/v1/messages", "", {}, b"", {"model": "mock", "messages": []}))
    assert bad.status == 400
