"""OpenAI Chat Completions answers -> Messages API answers (what the agent's SDK parses).

A completion becomes a Messages ``message``: text and ``tool_calls`` become ``text`` and ``tool_use``
blocks, ``finish_reason`` a ``stop_reason``, and usage the Messages shape (``input_tokens`` without
the cached part, ``cache_read_input_tokens`` from ``prompt_tokens_details.cached_tokens``,
``cache_creation_input_tokens`` 0), so the gateway's accounting reads it unchanged. An error body
becomes the Messages error shape the SDK turns into its typed exceptions; an overlong prompt reads
"prompt is too long", as the Anthropic API says it.

For an upstream marked local, ``recover_tool_call`` turns a text that is one JSON call of a declared
tool (bare, or inside ``<tool_call>`` tags) into a ``tool_use`` block: small models write calls that way.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from typing import Any

__all__ = [
    "STOP_REASONS", "assembled_message", "chat_error_to_messages", "completion_to_message", "message_usage",
    "new_message_id", "new_tool_use_id", "recover_tool_call", "recovered_content", "stop_reason_for", "tool_use_block",
]  # fmt: skip

STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "function_call": "tool_use",
                "content_filter": "refusal"}  # fmt: skip
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 503: "overloaded_error",
                529: "overloaded_error"}  # fmt: skip
_OVERLONG_CODES = ("context_length_exceeded", "exceed_context_size_error")
_TAGGED_CALL = re.compile(r"<tool_call>\s*(\{.*\})\s*</tool_call>", re.DOTALL)
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Servers that leave an id out, or give one the Messages API would refuse, get one of ours.
_TOOL_USE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def _api_style_id(prefix: str) -> str:
    return prefix + "01" + "".join(secrets.choice(_BASE62) for _ in range(22))


def new_message_id() -> str:
    return _api_style_id("msg_")


def new_tool_use_id() -> str:
    return _api_style_id("toolu_")


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def message_usage(usage: Any) -> dict[str, int] | None:
    """Chat Completions usage in the Messages shape, or None when the server reported none."""
    if not isinstance(usage, dict):
        return None
    details = usage.get("prompt_tokens_details")
    cached = _count(details.get("cached_tokens")) if isinstance(details, dict) else 0
    prompt = _count(usage.get("prompt_tokens"))
    return {
        "input_tokens": max(0, prompt - cached),
        "output_tokens": _count(usage.get("completion_tokens")),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": min(cached, prompt),
    }


def _arguments(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text) if isinstance(text, str) and text.strip() else {}
    except ValueError:
        value = None
    # Malformed arguments become an empty input: the agent's tool answers with an is_error result.
    return value if isinstance(value, dict) else {}


def tool_use_block(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    """A tool_use block for a Chat Completions call (arguments a JSON text, or already a dict)."""
    good_id = isinstance(call_id, str) and _TOOL_USE_ID.match(call_id)
    parsed = arguments if isinstance(arguments, dict) else _arguments(arguments)
    return {"type": "tool_use", "id": call_id if good_id else new_tool_use_id(), "name": str(name or ""),
            "input": parsed}  # fmt: skip


def recover_tool_call(text: str, tool_names: set[str]) -> dict[str, Any] | None:
    """A tool_use block when ``text`` is one JSON call ``{"name": T, "arguments": {...}}`` of a declared
    tool ``T`` (bare or tagged), a text block when it is ``{"text": ...}``, else None."""
    tagged = _TAGGED_CALL.search(text)
    try:
        value = json.loads(tagged.group(1) if tagged else text.strip())
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    if value.get("name") in tool_names:
        arguments = value.get("arguments", value.get("parameters", {}))
        return tool_use_block(None, value["name"], arguments if isinstance(arguments, dict) else {})
    if set(value) == {"text"} and isinstance(value["text"], str):
        return {"type": "text", "text": value["text"]}
    return None


def recovered_content(content: list[dict[str, Any]], tool_names: set[str]) -> list[dict[str, Any]]:
    """``content`` with JSON-text tool calls turned into tool_use blocks (when it holds no native call)."""
    if any(block["type"] == "tool_use" for block in content):
        return content
    recovered = [recover_tool_call(block["text"], tool_names) or block for block in content]
    return [block for block in recovered if block["type"] != "text" or block["text"]]


def stop_reason_for(content: list[dict[str, Any]], finish_reason: Any) -> str:
    if any(block["type"] == "tool_use" for block in content):
        return "tool_use"
    reason = STOP_REASONS.get(finish_reason, "end_turn")
    return "end_turn" if reason == "tool_use" else reason  # a call announced but not given is no call


def assembled_message(
    content: list[dict[str, Any]], finish_reason: Any, usage: dict[str, int], model: Any
) -> dict[str, Any]:
    """A whole Messages response from its parts."""
    return {
        "id": new_message_id(), "type": "message", "role": "assistant", "model": model, "content": content,
        "stop_reason": stop_reason_for(content, finish_reason), "stop_sequence": None, "usage": usage,
    }  # fmt: skip


def completion_to_message(
    completion: Any, model: Any, estimate_usage: Callable[[str], dict[str, int]]
) -> dict[str, Any]:
    """The Messages response for a non-streamed Chat Completions ``completion`` (usage estimated
    from the answer's text when the server reported none)."""
    choices = completion.get("choices") if isinstance(completion, dict) else None
    choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    content: list[dict[str, Any]] = []
    if isinstance(message.get("content"), str) and message["content"]:
        content.append({"type": "text", "text": message["content"]})
    for call in message.get("tool_calls") or ():
        if isinstance(call, dict):
            function = call.get("function") if isinstance(call.get("function"), dict) else {}
            content.append(tool_use_block(call.get("id"), function.get("name"), function.get("arguments")))
    reported = message_usage(completion.get("usage") if isinstance(completion, dict) else None)
    usage = reported or estimate_usage(json.dumps(content, ensure_ascii=False))
    return assembled_message(content, choice.get("finish_reason"), usage, model)


def _error_fields(body: Any) -> tuple[str, str]:
    """(message, code) of an OpenAI-style error body, whatever shape the server gave."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or "no message"), str(error.get("code") or error.get("type") or "")
    if isinstance(error, str):
        return error, ""
    if isinstance(body, str):  # not JSON: a proxy's or a crashed server's page
        return body[:500], ""
    return (json.dumps(body)[:500] if body is not None else "no body"), ""


def chat_error_to_messages(status: int, body: Any, upstream: str) -> tuple[str, str]:
    """(error type, message) of the Messages error for an OpenAI-style error answer."""
    message, code = _error_fields(body)
    if code in _OVERLONG_CODES or "context length" in message.lower() or "context size" in message.lower():
        return "invalid_request_error", f"prompt is too long: {message} (from {upstream})"
    error_type = _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return error_type, f"{message} (from {upstream})"
