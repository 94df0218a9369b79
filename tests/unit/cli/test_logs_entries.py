"""`logs` reads a streamed exchange (the agent streams every request) as its text and tool calls."""

import json

from wave_sandbox.cli.logs_cmd import exchange_entry


def event(data: dict) -> dict:
    return {"event": data["type"], "data": data}


def test_a_streamed_exchange_shows_its_text_and_tool_call_not_an_empty_line():
    stream = [
        event({"type": "message_start", "message": {"content": []}}),
        event({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        event({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Checking \x1b[2J"}}),
        event({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "the pool."}}),
        event({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "name": "bash"}}),
        event({"type": "content_block_delta", "index": 1,
               "delta": {"type": "input_json_delta", "partial_json": '{"command": "ls'}}),
        event({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '"}'}}),
        event({"type": "message_stop"}),
    ]
    entry = exchange_entry(json.dumps({"time": "t", "status": 200, "response": stream}))
    assert entry["parts"] == ["Checking \\x1b[2Jthe pool.", 'bash({"command": "ls"})']
