"""Messages API request -> OpenAI Chat Completions request (what the OpenAI upstream sends).

The gateway has already admitted the request against its allowlist (``request_allowlist``), so only
the fields the agent uses arrive here: system, messages with text / tool_use / tool_result blocks,
tools, tool_choice, max_tokens, sampling settings, stop_sequences and stream. ``cache_control`` and
``thinking`` have no Chat Completions equivalent and are dropped; ``top_k`` too (OpenAI refuses it).

    body = chat_request(payload, ChatDialect(max_tokens_field="max_completion_tokens"))

For an upstream marked local, ``constrained_call_format`` adds a ``response_format`` JSON schema that
makes a small model answer with one JSON tool call (or ``{"text": ...}``): llama.cpp's server cannot
constrain output otherwise, and a 135M model never makes a native call (docs/local-models.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["ChatDialect", "chat_request", "constrained_call_format", "tool_result_text"]

# A tool_result marked is_error has no Chat Completions field; the model reads it from the text.
ERROR_RESULT_PREFIX = "[tool error] "


@dataclass(frozen=True)
class ChatDialect:
    """How one OpenAI-compatible server wants a request shaped."""

    max_tokens_field: str = "max_tokens"
    """OpenAI's own API wants ``max_completion_tokens`` (newer models refuse ``max_tokens``); others ``max_tokens``."""
    local: bool = False
    """The upstream is marked local: constrain tool calls to JSON text (and recover them from it)."""


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [block for block in content or () if isinstance(block, dict)]


def _text_of(blocks: list[dict[str, Any]]) -> str:
    return "".join(block.get("text", "") for block in blocks if block.get("type") == "text")


def tool_result_text(block: dict[str, Any]) -> str:
    """A tool_result's content as one string, marked when it is an error."""
    text = _text_of(_blocks(block.get("content")))
    return ERROR_RESULT_PREFIX + text if block.get("is_error") else text


def _system_message(system: Any) -> list[dict[str, Any]]:
    text = _text_of(_blocks(system)) if system else ""
    return [{"role": "system", "content": text}] if text else []


def _assistant_message(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    calls = [
        {"id": block["id"], "type": "function",
         "function": {"name": block["name"], "arguments": json.dumps(block.get("input", {}), ensure_ascii=False)}}
        for block in blocks if block.get("type") == "tool_use"
    ]  # fmt: skip
    # Without calls, OpenAI wants a content string (a turn of thinking blocks only has none).
    message: dict[str, Any] = {"role": "assistant", "content": _text_of(blocks) or (None if calls else "")}
    if calls:
        message["tool_calls"] = calls
    return message


def _user_messages(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool results first (each its own ``tool`` message, right after the calls), then the user's text."""
    results = [
        {"role": "tool", "tool_call_id": block["tool_use_id"], "content": tool_result_text(block)}
        for block in blocks if block.get("type") == "tool_result"
    ]  # fmt: skip
    text = _text_of(blocks)
    return results + ([{"role": "user", "content": text}] if text or not results else [])


def chat_messages(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The conversation as Chat Completions messages, the system prompt first."""
    messages = _system_message(payload.get("system"))
    for message in payload.get("messages") or ():
        blocks = _blocks(message.get("content"))
        if message.get("role") == "assistant":
            messages.append(_assistant_message(blocks))
        else:
            messages.extend(_user_messages(blocks))
    return messages


def _chat_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"type": "function", "function": {
            "name": tool["name"], "description": tool.get("description", ""),
            "parameters": tool.get("input_schema") or {"type": "object", "properties": {}}}}
        for tool in tools
    ]  # fmt: skip


def _chat_tool_choice(choice: dict[str, Any]) -> str | dict[str, Any]:
    kind = choice.get("type")
    if kind == "tool":
        return {"type": "function", "function": {"name": choice.get("name", "")}}
    return {"any": "required", "none": "none"}.get(kind, "auto")


def constrained_call_format(tools: list[dict[str, Any]], tool_choice: dict[str, Any] | None) -> dict[str, Any]:
    """A response_format that admits one call of a declared tool, or (unless a call is required) text."""
    kind = (tool_choice or {}).get("type", "auto")
    named = [tool for tool in tools if kind != "tool" or tool["name"] == tool_choice.get("name")]
    options: list[dict[str, Any]] = [
        {"type": "object", "required": ["name", "arguments"], "properties": {
            "name": {"const": tool["name"]},
            "arguments": tool.get("input_schema") or {"type": "object"}}}
        for tool in named
    ]  # fmt: skip
    if kind not in ("any", "tool"):
        options.append({"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}})
    return {"type": "json_schema", "json_schema": {"name": "tool_call_or_text", "schema": {"anyOf": options}}}


def _add_tools(body: dict[str, Any], payload: dict[str, Any], dialect: ChatDialect) -> None:
    tools = payload.get("tools") or []
    choice = payload.get("tool_choice")
    if not tools:
        return
    body["tools"] = _chat_tools(tools)
    if choice:
        body["tool_choice"] = _chat_tool_choice(choice)
        if choice.get("disable_parallel_tool_use"):
            body["parallel_tool_calls"] = False
    if dialect.local and (choice or {}).get("type") != "none":
        body["response_format"] = constrained_call_format(tools, choice)


def chat_request(payload: dict[str, Any], dialect: ChatDialect = ChatDialect()) -> dict[str, Any]:
    """The Chat Completions body for an admitted Messages request ``payload``."""
    body: dict[str, Any] = {"model": payload.get("model"), "messages": chat_messages(payload)}
    if "max_tokens" in payload:
        body[dialect.max_tokens_field] = payload["max_tokens"]
    for name in ("temperature", "top_p"):
        if name in payload:
            body[name] = payload[name]
    if payload.get("stop_sequences"):
        body["stop"] = payload["stop_sequences"]
    _add_tools(body, payload, dialect)
    if payload.get("stream") or dialect.local:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body
