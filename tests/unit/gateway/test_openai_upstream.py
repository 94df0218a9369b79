"""The OpenAI upstream: the real anthropic SDK talks Messages to the gateway, the gateway talks Chat
Completions to a scripted OpenAI-compatible server (held to the openai SDK's parsing by
test_scripted_chat_server), and every part of the translation is checked on both sides of it."""

from __future__ import annotations

import json

import anthropic
import pytest

from tests.scripted_chat_completions import Reply, ScriptedChatServer, Usage, call, openai_error, text
from wave_sandbox.gateway.anthropic_upstream import RetryPolicy
from wave_sandbox.gateway.openai_upstream import OpenAIUpstream

from .conftest import BASH_TOOL, answer_tools, sdk_client, user_says

KEY = "sk-openai-HOST-KEY-must-never-leave-the-host"
FAST = RetryPolicy(max_attempts=3, backoff_base_s=0.01, max_retry_after_s=1.0)
WRITE_TOOL = {"name": "write_file", "description": "Write a file", "input_schema": {
    "type": "object", "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
    "required": ["path", "content"]}}


@pytest.fixture
def chat_server():
    server = ScriptedChatServer(usage=Usage(prompt_tokens=200, completion_tokens=20, cached_tokens=150))
    yield server
    server.stop()


@pytest.fixture
def through(start_gateway, chat_server, tmp_path):
    """(gateway, anthropic client) for a gateway translating to the scripted server; local=True marks it local."""

    def build(local: bool = False, key: str | None = KEY):
        upstream = OpenAIUpstream(key, base_url=chat_server.base_url, local=local, retry=FAST)
        gateway = start_gateway(upstream=upstream)
        token = gateway.register_step("triage", tmp_path / "transcript.jsonl")
        return gateway, sdk_client(gateway, token)

    return build


def create(client, messages=None, **extra):
    return client.messages.create(model="gpt-test", max_tokens=256, system="You are terse.", tools=[BASH_TOOL],
                                  messages=messages or user_says("list the files"), **extra)


def test_a_tool_call_and_its_result_go_both_ways(through, chat_server, tmp_path):
    gateway, client = through()
    chat_server.turns.append([text("Looking."), call("bash", {"command": "ls"}, "call_1")])
    chat_server.turns.append([text("Two files.")])

    first = create(client, tool_choice={"type": "auto", "disable_parallel_tool_use": True}, extra_body={"temperature": 0})
    second = create(client, answer_tools(user_says("list the files"), first, {"call_1": "a.py\nb.py"}))

    assert [block.type for block in first.content] == ["text", "tool_use"]
    assert first.content[1].id == "call_1" and first.content[1].input == {"command": "ls"}
    assert first.stop_reason == "tool_use" and second.stop_reason == "end_turn"
    assert second.content[0].text == "Two files."
    sent_first, sent_second = chat_server.received
    assert sent_first["messages"] == [{"role": "system", "content": "You are terse."},
                                      {"role": "user", "content": "list the files"}]
    assert sent_first["tools"][0] == {"type": "function", "function": {
        "name": "bash", "description": BASH_TOOL["description"], "parameters": BASH_TOOL["input_schema"]}}
    assert sent_first["tool_choice"] == "auto" and sent_first["parallel_tool_calls"] is False
    assert sent_first["max_tokens"] == 256 and sent_first["temperature"] == 0 and "stream" not in sent_first
    assert sent_second["messages"][2]["tool_calls"][0]["function"] == {"name": "bash", "arguments": '{"command": "ls"}'}
    assert sent_second["messages"][3] == {"role": "tool", "tool_call_id": "call_1", "content": "a.py\nb.py"}


def test_usage_comes_back_in_the_messages_shape_and_is_counted(through, chat_server):
    gateway, client = through()
    chat_server.turns.append([text("hi")])

    answer = create(client)

    assert answer.usage.input_tokens == 50 and answer.usage.cache_read_input_tokens == 150
    assert answer.usage.cache_creation_input_tokens == 0 and answer.usage.output_tokens == 20
    assert gateway.usage("triage").input_tokens == 200 and gateway.usage("triage").output_tokens == 20


def test_a_streamed_request_gets_messages_events_from_openai_chunks(through, chat_server, tmp_path):
    gateway, client = through()
    chat_server.turns.append([text("Looking at the files now."), call("bash", {"command": "ls -la /src"}, "call_9")])

    with client.messages.stream(model="gpt-test", max_tokens=256, tools=[BASH_TOOL],
                                messages=user_says("list")) as stream:
        texts = list(stream.text_stream)
        final = stream.get_final_message()

    assert len(texts) > 1 and "".join(texts) == "Looking at the files now."
    assert final.content[1].type == "tool_use" and final.content[1].input == {"command": "ls -la /src"}
    assert final.stop_reason == "tool_use"
    assert (final.usage.input_tokens, final.usage.cache_read_input_tokens, final.usage.output_tokens) == (50, 150, 20)
    assert chat_server.received[0]["stream"] is True
    assert chat_server.received[0]["stream_options"] == {"include_usage": True}
    assert gateway.usage("triage").total_tokens == 220
    events = [event["event"] for event in json.loads((tmp_path / "transcript.jsonl").read_text())["response"]]
    assert events[0] == "message_start" and events[-2:] == ["message_delta", "message_stop"]


def test_the_host_key_goes_to_the_server_and_nowhere_else(through, chat_server, tmp_path):
    gateway, client = through()
    chat_server.turns.append(Reply(400, openai_error(f"a proxy quoting {KEY}")))

    with pytest.raises(anthropic.BadRequestError):
        create(client)

    assert chat_server.headers[0]["authorization"] == f"Bearer {KEY}"
    written = (tmp_path / "transcript.jsonl").read_text()
    assert KEY not in written and "[redacted]" in written


def test_a_keyless_local_server_gets_no_authorization(through, chat_server):
    gateway, client = through(key=None)
    create(client)
    assert "authorization" not in chat_server.headers[0]


def test_errors_become_the_messages_errors_the_sdk_knows(through, chat_server):
    gateway, client = through()
    overlong = openai_error("This model's maximum context length is 8192 tokens", "context_length_exceeded")
    chat_server.turns.extend([
        Reply(400, overlong),
        Reply(429, openai_error("slow down", "rate_limit_exceeded"), {"retry-after": "0"}),
        [text("after the retry")],
        Reply(401, openai_error("Incorrect API key provided", "invalid_api_key")),
    ])

    with pytest.raises(anthropic.BadRequestError) as too_long:
        create(client)
    retried = create(client)
    with pytest.raises(anthropic.AuthenticationError):
        create(client)

    assert too_long.value.message.count("prompt is too long") == 1
    assert too_long.value.body["error"]["type"] == "invalid_request_error"
    assert retried.content[0].text == "after the retry"


def test_a_translation_the_server_refuses_would_show(through, chat_server):
    """The server checks every tool message answers a call: a broken translation fails here, not silently."""
    gateway, client = through()
    chat_server.turns.append([call("bash", {"command": "ls"}, "call_1"), call("bash", {"command": "pwd"}, "call_2")])
    first = create(client)
    history = answer_tools(user_says("list the files"), first)

    create(client, history)

    assert [message["role"] for message in chat_server.received[1]["messages"]] == [
        "system", "user", "assistant", "tool", "tool"]


def test_a_local_upstream_is_constrained_and_its_json_text_call_recovered(through, chat_server):
    gateway, client = through(local=True, key=None)
    chat_server.turns.append([text('{"name": "write_file", "arguments": {"path": "hello.txt", "content": "hi"}}')])
    chat_server.turns.append([text('{"text": "Wrote hello.txt"}')])
    chat_server.turns.append([text('{"name": "rm_rf", "arguments": {}}')])

    called = client.messages.create(model="smol", max_tokens=64, tools=[BASH_TOOL, WRITE_TOOL],
                                    messages=user_says("write hello"))
    with client.messages.stream(model="smol", max_tokens=64, tools=[WRITE_TOOL], messages=user_says("x")) as stream:
        said = stream.get_final_message()
    undeclared = client.messages.create(model="smol", max_tokens=64, tools=[WRITE_TOOL], messages=user_says("x"))

    assert called.stop_reason == "tool_use" and called.content[0].name == "write_file"
    assert called.content[0].input == {"path": "hello.txt", "content": "hi"} and called.content[0].id.startswith("toolu_")
    assert said.stop_reason == "end_turn" and said.content[0].text == "Wrote hello.txt"
    assert undeclared.content[0].type == "text"  # only a declared tool is ever called
    schema = chat_server.received[0]["response_format"]["json_schema"]["schema"]["anyOf"]
    assert [option["properties"].get("name", {}).get("const") for option in schema] == ["bash", "write_file", None]


def test_count_tokens_is_answered_with_an_estimate(through, chat_server):
    gateway, client = through()
    counted = client.messages.count_tokens(model="gpt-test", messages=user_says("hello there"))
    assert counted.input_tokens > 0 and chat_server.received == []
