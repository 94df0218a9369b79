"""The scripted Chat Completions server speaks what the real `openai` SDK parses, streamed and not,
so the gateway's translation is tested against OpenAI's wire format, not against our idea of it."""

from __future__ import annotations

import json

import openai
import pytest

from tests.scripted_chat_completions import Reply, ScriptedChatServer, Usage, call, openai_error, text

TOOL = {"type": "function", "function": {"name": "bash", "description": "Run a shell command", "parameters": {
    "type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}}


@pytest.fixture
def server():
    started = ScriptedChatServer(usage=Usage(prompt_tokens=200, completion_tokens=20, cached_tokens=150))
    yield started
    started.stop()


def client(server: ScriptedChatServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="sk-local", max_retries=0, timeout=10)


def ask(**extra):
    return dict(model="gpt-test", messages=[{"role": "user", "content": "list files"}], tools=[TOOL], **extra)


def test_a_whole_completion_parses_with_its_tool_call_and_usage(server):
    server.turns.append([text("Looking."), call("bash", {"command": "ls -la"})])

    completion = client(server).chat.completions.create(**ask())

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content == "Looking."
    assert choice.message.tool_calls[0].function.name == "bash"
    assert json.loads(choice.message.tool_calls[0].function.arguments) == {"command": "ls -la"}
    assert completion.usage.prompt_tokens == 200 and completion.usage.prompt_tokens_details.cached_tokens == 150


def test_a_stream_accumulates_in_the_sdk_to_the_same_message(server):
    server.turns.append([text("Looking at the files now."), call("bash", {"command": "ls -la /src"}, "call_A")])

    with client(server).chat.completions.stream(**ask(stream_options={"include_usage": True})) as stream:
        final = stream.get_final_completion()

    message = final.choices[0].message
    assert final.choices[0].finish_reason == "tool_calls"
    assert message.content == "Looking at the files now."
    assert message.tool_calls[0].id == "call_A" and message.tool_calls[0].function.name == "bash"
    assert json.loads(message.tool_calls[0].function.arguments) == {"command": "ls -la /src"}
    assert final.usage.completion_tokens == 20


def test_a_bad_conversation_gets_openais_400_shape(server):
    orphan = [{"role": "user", "content": "hi"}, {"role": "tool", "tool_call_id": "call_x", "content": "ok"}]
    server.turns.append(Reply(429, openai_error("slow down", "rate_limit_exceeded", "requests")))

    with pytest.raises(openai.BadRequestError) as refused:
        client(server).chat.completions.create(model="gpt-test", messages=orphan)
    with pytest.raises(openai.RateLimitError):
        client(server).chat.completions.create(**ask())

    assert "must answer a tool_call" in refused.value.message
