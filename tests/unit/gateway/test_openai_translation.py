"""The Messages <-> Chat Completions translation on its own: the request shapes, the stream
state machine on chunks real servers send (interleaved calls, broken arguments, no usage, an error
mid-stream), and the recovery of JSON-text tool calls for a local upstream."""

from __future__ import annotations

import json

from wave_sandbox.gateway.openai_requests import ChatDialect, chat_request
from wave_sandbox.gateway.openai_responses import chat_error_to_messages, message_usage, recover_tool_call
from wave_sandbox.gateway.openai_stream import ChatStreamTranslator, gathered_message, translated_stream
from wave_sandbox.gateway.sse import SSEParser

TOOL = {"name": "bash", "description": "run", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}


def estimate(text: str) -> dict:
    return {"input_tokens": 11, "output_tokens": len(text) // 4, "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0}


def chunk(delta: dict | None = None, finish: str | None = None, usage: dict | None = None) -> bytes:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return f"data: {json.dumps({'choices': choices, 'usage': usage})}\n\n".encode()


def events_of(raw: list[bytes]) -> list[dict]:
    translator = ChatStreamTranslator("m", "the test server", estimate)
    parser = SSEParser()
    return [event.decoded_data() for piece in translated_stream(iter(raw), translator) for event in parser.feed(piece)]


def test_a_request_keeps_the_conversation_and_drops_what_chat_completions_lacks():
    payload = {
        "model": "m", "max_tokens": 99, "top_k": 5, "stop_sequences": ["END"], "thinking": {"type": "disabled"},
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "tools": [dict(TOOL, cache_control={"type": "ephemeral"})], "tool_choice": {"type": "any"},
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "signature": "s"},
                                              {"type": "tool_use", "id": "t1", "name": "bash", "input": {"command": "x"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "is_error": True, "content": [{"type": "text", "text": "no"}]},
                {"type": "text", "text": "try again", "cache_control": {"type": "ephemeral"}}]},
        ],
    }  # fmt: skip

    body = chat_request(payload, ChatDialect(max_tokens_field="max_completion_tokens"))

    assert body["max_completion_tokens"] == 99 and "top_k" not in body and "thinking" not in body
    assert body["stop"] == ["END"] and body["tool_choice"] == "required" and "stream" not in body
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "t1", "type": "function", "function": {"name": "bash", "arguments": '{"command": "x"}'}}]},
        {"role": "tool", "tool_call_id": "t1", "content": "[tool error] no"},
        {"role": "user", "content": "try again"},
    ]  # fmt: skip
    assert body["tools"] == [{"type": "function", "function": {"name": "bash", "description": "run",
                                                               "parameters": TOOL["input_schema"]}}]


def test_a_local_request_streams_and_a_named_tool_choice_admits_only_that_call():
    payload = {"model": "m", "max_tokens": 9, "messages": [{"role": "user", "content": "x"}],
               "tools": [TOOL, dict(TOOL, name="grep")], "tool_choice": {"type": "tool", "name": "grep"}}

    body = chat_request(payload, ChatDialect(local=True))

    options = body["response_format"]["json_schema"]["schema"]["anyOf"]
    assert [option["properties"]["name"]["const"] for option in options] == ["grep"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "grep"}}
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_interleaved_and_broken_tool_calls_come_out_whole_and_valid():
    raw = [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Two calls"}),
        chunk({"tool_calls": [{"index": 0, "id": "call_a", "function": {"name": "bash", "arguments": '{"comm'}}]}),
        chunk({"tool_calls": [{"index": 1, "function": {"name": "bash", "arguments": "{not json"}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'and": "ls"}'}}]}),
        chunk({}, "tool_calls"),
        b"data: [DONE]\n\n",
    ]

    events = events_of(raw)

    kinds = [event["type"] for event in events]
    assert kinds[:2] == ["message_start", "ping"] and kinds[-2:] == ["message_delta", "message_stop"]
    starts = [event["content_block"] for event in events if event["type"] == "content_block_start"]
    assert [block["type"] for block in starts] == ["text", "tool_use", "tool_use"]
    assert starts[1]["id"] == "call_a" and starts[2]["id"].startswith("toolu_")  # no id given: one of ours
    inputs = [event["delta"]["partial_json"] for event in events if event.get("delta", {}).get("type") == "input_json_delta"]
    assert [json.loads(text) for text in inputs] == [{"command": "ls"}, {}]
    closing = events[-2]
    assert closing["delta"]["stop_reason"] == "tool_use"
    assert closing["usage"]["input_tokens"] == 11  # the server reported none: estimated, never zero


def test_a_cut_answer_says_max_tokens_and_reported_usage_is_final():
    usage = {"prompt_tokens": 40, "completion_tokens": 9, "prompt_tokens_details": {"cached_tokens": 32}}
    events = events_of([chunk({"content": "abc"}), chunk({}, "length"), chunk(None, usage=usage), b"data: [DONE]\n\n"])

    assert events[-2]["delta"]["stop_reason"] == "max_tokens"
    assert events[-2]["usage"] == {"input_tokens": 8, "output_tokens": 9, "cache_creation_input_tokens": 0,
                                   "cache_read_input_tokens": 32}


def test_an_error_mid_stream_becomes_the_messages_error_event():
    raw = [chunk({"content": "partial"}), b'data: {"error": {"message": "model crashed", "code": 500}}\n\n']

    events = events_of(raw)

    assert events[-1]["type"] == "error" and "model crashed" in events[-1]["error"]["message"]
    assert not any(event["type"] == "message_stop" for event in events)


def test_local_recovery_takes_declared_tools_only_in_the_shapes_small_models_write():
    names = {"bash", "write_file"}
    assert recover_tool_call('{"name": "bash", "arguments": {"command": "ls"}}', names)["input"] == {"command": "ls"}
    assert recover_tool_call('<tool_call>\n{"name": "bash", "parameters": {"command": "pwd"}}\n</tool_call>', names)[
        "input"] == {"command": "pwd"}
    assert recover_tool_call('{"text": "all done"}', names) == {"type": "text", "text": "all done"}
    assert recover_tool_call('{"name": "curl", "arguments": {}}', names) is None
    assert recover_tool_call("I will call bash now", names) is None
    gathered = gathered_message(iter([chunk({"content": '{"name": "bash", "arguments": {"command": "ls"}}'}),
                                      chunk({}, "stop")]), ChatStreamTranslator("m", "s", estimate), names)
    assert gathered["stop_reason"] == "tool_use" and gathered["content"][0]["name"] == "bash"


def test_usage_and_errors_map_to_the_messages_shapes():
    assert message_usage({"prompt_tokens": 5, "completion_tokens": 2}) == {
        "input_tokens": 5, "output_tokens": 2, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    assert message_usage({"prompt_tokens": "lots", "completion_tokens": -3})["output_tokens"] == 0
    assert message_usage(None) is None
    overlong = {"error": {"message": "the request exceeds the available context size", "type": "exceed_context_size_error"}}
    assert chat_error_to_messages(400, overlong, "llama")[1].startswith("prompt is too long: ")
    assert chat_error_to_messages(503, {"error": "busy"}, "vllm") == ("overloaded_error", "busy (from vllm)")
    assert chat_error_to_messages(502, "<html>Bad gateway</html>", "x") == ("api_error", "<html>Bad gateway</html> (from x)")
