"""Smoke test: a real small model behind llama.cpp's server answers the two APIs the gateway will use.

Asserts only what a 135M model can do. Run with `make test-local-model` (excluded from `make test`).
"""

from __future__ import annotations

import json
import time
import urllib.request

import anthropic

from tests.local_model.tool_calls import from_chat_message, from_messages_content

SYSTEM = "You are a coding agent. Use the tools."
ASK = "Create a file named hello.txt containing the text hi. Use the write_file tool."
SCHEMA = {
    "type": "object",
    "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
    "required": ["path", "content"],
}
MESSAGES_TOOL = {"name": "write_file", "description": "Write text to a file in the workspace",
                 "input_schema": SCHEMA}
CHAT_TOOL = {"type": "function", "function": {"name": "write_file",
                                              "description": MESSAGES_TOOL["description"],
                                              "parameters": SCHEMA}}
# What a gateway can add for a local upstream: the answer must be one JSON call of the one tool.
CALL_FORMAT = {"type": "json_schema", "json_schema": {"name": "tool_call", "schema": {
    "type": "object",
    "properties": {"name": {"const": "write_file"}, "arguments": SCHEMA},
    "required": ["name", "arguments"],
}}}


def anthropic_client(local_server) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=local_server.url, api_key="local", max_retries=0, timeout=120)


def post_chat(local_server, body: dict) -> dict:
    request = urllib.request.Request(f"{local_server.url}/v1/chat/completions",
                                     json.dumps(body).encode(), {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.load(response)


def timed(label: str, call):
    started = time.monotonic()
    result = call()
    print(f"\nlocal-model: {label} {time.monotonic() - started:.2f} s")
    return result


def test_messages_api_answers_with_one_tool(local_server):
    response = timed("messages 1 turn", lambda: anthropic_client(local_server).messages.create(
        model="smollm2", max_tokens=64, system=SYSTEM, tools=[MESSAGES_TOOL],
        messages=[{"role": "user", "content": ASK}], extra_body={"temperature": 0}))
    assert response.type == "message" and response.role == "assistant"
    assert response.content and response.usage.output_tokens > 0
    assert response.stop_reason in {"end_turn", "max_tokens", "tool_use"}
    found = from_messages_content(response.content)
    print(f"local-model: messages tool call: {found}")
    assert found is None or found.name == "write_file"


def test_messages_api_takes_a_tool_result_turn(local_server):
    history = [
        {"role": "user", "content": "Create a file named a.txt containing the text x."},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "write_file",
                                           "input": {"path": "a.txt", "content": "x"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"},
                                     {"type": "text", "text": "Now say done."}]},
    ]
    response = anthropic_client(local_server).messages.create(
        model="smollm2", max_tokens=32, system=SYSTEM, tools=[MESSAGES_TOOL], messages=history,
        extra_body={"temperature": 0})
    assert response.content and response.usage.output_tokens > 0


def test_chat_completions_constrained_call_names_the_tool(local_server):
    body = {"model": "smollm2", "max_tokens": 96, "temperature": 0, "tools": [CHAT_TOOL],
            "response_format": CALL_FORMAT,
            "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": ASK}]}
    answer = timed("chat completions tool call", lambda: post_chat(local_server, body))
    message = answer["choices"][0]["message"]
    found = from_chat_message(message)
    print(f"local-model: chat completions tool call: {found}")
    assert found is not None, message
    assert found.name == "write_file"
    assert isinstance(found.arguments.get("path"), str)
