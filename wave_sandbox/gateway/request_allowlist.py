"""What a step may ask the model for: an allowlist of Messages API fields, blocks, tools and headers.

The model provider acts on more than the model: ``mcp_servers`` makes it connect to any URL, server
tools (``web_fetch_*``, ``web_search_*``, ``code_execution_*``) fetch and run things, an image or a
document with a ``url`` source is fetched, a ``container`` or a Files API ``file_id`` reaches the
operator's account, and ``anthropic-beta`` turns such features on. All of that would run with the
operator's key and bill, outside the sandbox. So the gateway lets through only what the in-container
agent sends and refuses the rest with a clear message, so an agent learns what went wrong.
``cache_control`` (an ephemeral breakpoint, the agent's prompt caching) is let through where the
agent puts it only: on tool definitions, system blocks and the top-level blocks of user messages, at
most four in a request (the API's limit); never on the model's own blocks or inside a tool result.
What goes upstream is rebuilt from the allowed fields only (``allowed_request``), never the bytes the
container sent.

    problem = find_forbidden(payload, counting=False, max_tokens_cap=8192)
    body = json.dumps(allowed_request(payload, counting=False)).encode()
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

__all__ = ["find_forbidden", "allowed_request", "forbidden_header", "ANTHROPIC_VERSION_PATTERN"]

MESSAGES_FIELDS = frozenset(
    {"model", "max_tokens", "messages", "system", "tools", "tool_choice", "stream", "temperature", "top_p",
     "top_k", "stop_sequences", "thinking"}
)  # fmt: skip
# count_tokens takes no max_tokens, stream or sampling settings.
COUNT_TOKENS_FIELDS = frozenset({"model", "messages", "system", "tools", "tool_choice", "thinking"})
BLOCK_FIELDS = {
    "text": frozenset({"type", "text", "cache_control"}),
    "tool_use": frozenset({"type", "id", "name", "input"}),
    "tool_result": frozenset({"type", "tool_use_id", "content", "is_error", "cache_control"}),
    "thinking": frozenset({"type", "thinking", "signature"}),
    "redacted_thinking": frozenset({"type", "data"}),
}
TOOL_RESULT_BLOCK_TYPES = frozenset({"text"})
TOOL_FIELDS = frozenset({"type", "name", "description", "input_schema", "cache_control"})
TOOL_CHOICE_FIELDS = frozenset({"type", "name", "disable_parallel_tool_use"})
# Only the default 5-minute entries: an hour-long one bills writes at twice the input price, which the
# price table (and so --max-cost) does not count, and the agent never asks for it.
CACHE_CONTROL_TTLS = ("5m",)
MAX_CACHE_BREAKPOINTS = 4
ANTHROPIC_VERSION_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SCALAR_FIELDS: dict[str, tuple[type, ...]] = {
    "model": (str,), "max_tokens": (int,), "stream": (bool,), "temperature": (int, float), "top_p": (int, float),
    "top_k": (int,),
}  # fmt: skip
_WHY = "the gateway lets through only what the step's agent needs"


class _Forbidden(Exception):
    """Internal: the first forbidden thing found; never leaves this module."""


def _refuse(message: str) -> NoReturn:
    raise _Forbidden(message)


def forbidden_header(name: str, value: str) -> str | None:
    """Why a request header may not reach the model, or None (headers not forwarded are no concern)."""
    lowered = name.lower()
    if lowered == "anthropic-beta":
        return f"the anthropic-beta header ({value[:80]}) is not allowed: beta features stay off; {_WHY}"
    if lowered == "anthropic-version" and not ANTHROPIC_VERSION_PATTERN.match(value.strip()):
        return "the anthropic-version header must be a date such as 2023-06-01"
    return None


def find_forbidden(payload: Any, counting: bool, max_tokens_cap: int | None) -> str | None:
    """The first field, block, tool or value the gateway does not let through, or None.

    ``counting`` is True for count_tokens; ``max_tokens_cap`` is the step's own max_tokens.
    """
    try:
        _check_request(payload, counting, max_tokens_cap)
    except _Forbidden as forbidden:
        return str(forbidden)
    return None


def allowed_request(payload: dict[str, Any], counting: bool) -> dict[str, Any]:
    """The request to send upstream: the allowed top-level fields of a payload ``find_forbidden`` passed."""
    allowed = COUNT_TOKENS_FIELDS if counting else MESSAGES_FIELDS
    return {name: payload[name] for name in sorted(allowed) if name in payload}


def _check_request(payload: Any, counting: bool, max_tokens_cap: int | None) -> None:
    if not isinstance(payload, dict):
        _refuse("the request body must be a JSON object")
    allowed = COUNT_TOKENS_FIELDS if counting else MESSAGES_FIELDS
    for name in payload:
        if name not in allowed:
            _refuse(f"the request field {name!r} is not allowed; allowed: {', '.join(sorted(allowed))}; {_WHY}")
    _check_scalars(payload)
    _check_max_tokens(payload.get("max_tokens"), max_tokens_cap)
    _check_stop_sequences(payload.get("stop_sequences"))
    _check_thinking(payload.get("thinking"))
    _check_system(payload.get("system"))
    _check_tools(payload.get("tools"))
    _check_tool_choice(payload.get("tool_choice"))
    _check_messages(payload.get("messages"))
    _check_breakpoint_count(payload)


def _check_breakpoint_count(payload: dict[str, Any]) -> None:
    system = payload.get("system")
    places = [*(payload.get("tools") or ()), *(system if isinstance(system, list) else ())]
    for message in payload.get("messages") or ():
        places += message["content"] if isinstance(message.get("content"), list) else []
    marked = sum(1 for place in places if place.get("cache_control") is not None)
    if marked > MAX_CACHE_BREAKPOINTS:
        _refuse(f"the request has {marked} cache_control breakpoints; at most {MAX_CACHE_BREAKPOINTS} are allowed")


def _check_scalars(payload: dict[str, Any]) -> None:
    for name, kinds in _SCALAR_FIELDS.items():
        value = payload.get(name)
        if name in payload and (isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds)):
            _refuse(f"the request field {name!r} has a value of the wrong type")


def _check_max_tokens(max_tokens: Any, cap: int | None) -> None:
    if cap is not None and isinstance(max_tokens, int) and max_tokens > cap:
        _refuse(f"max_tokens {max_tokens} is over this step's cap of {cap} (the persona's max_tokens)")


def _check_stop_sequences(stop_sequences: Any) -> None:
    if stop_sequences is not None and not (
        isinstance(stop_sequences, list) and all(isinstance(item, str) for item in stop_sequences)
    ):
        _refuse("stop_sequences must be a list of strings")


def _check_thinking(thinking: Any) -> None:
    if thinking is None:
        return
    fine = isinstance(thinking, dict) and (
        thinking == {"type": "disabled"}
        or (set(thinking) == {"type", "budget_tokens"} and thinking["type"] == "enabled"
            and isinstance(thinking["budget_tokens"], int) and not isinstance(thinking["budget_tokens"], bool))
    )  # fmt: skip
    if not fine:
        _refuse("thinking must be {type: enabled, budget_tokens: N} or {type: disabled}")


def _check_cache_control(value: Any, place: str) -> None:
    if value is None:
        return
    if not isinstance(value, dict) or value.get("type") != "ephemeral" or not set(value) <= {"type", "ttl"}:
        _refuse(f"{place}.cache_control must be {{type: ephemeral}} with an optional ttl")
    if "ttl" in value and value["ttl"] not in CACHE_CONTROL_TTLS:
        _refuse(f"{place}.cache_control.ttl must be one of {', '.join(CACHE_CONTROL_TTLS)}")


def _check_system(system: Any) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        _refuse("system must be a string or a list of text blocks")
    for index, block in enumerate(system):
        _check_block(block, f"system.{index}", frozenset({"text"}))


def _check_tools(tools: Any) -> None:
    if tools is None:
        return
    if not isinstance(tools, list):
        _refuse("tools must be a list")
    for index, tool in enumerate(tools):
        _check_tool(tool, f"tools.{index}")


def _check_tool(tool: Any, place: str) -> None:
    if not isinstance(tool, dict):
        _refuse(f"{place} must be an object")
    if tool.get("type", "custom") != "custom":
        _refuse(
            f"{place}: the tool type {str(tool['type'])[:80]!r} is not allowed: only the step's own client tools "
            f"(name, description, input_schema) are, no server tools; {_WHY}"
        )
    for name in tool:
        if name not in TOOL_FIELDS:
            _refuse(f"{place}: the tool field {name!r} is not allowed; allowed: {', '.join(sorted(TOOL_FIELDS))}")
    # A missing name or input_schema is the API's own 400, which the upstream gives.
    for name, kind in (("name", str), ("description", str), ("input_schema", dict)):
        if name in tool and not isinstance(tool[name], kind):
            _refuse(f"{place}.{name} must be a {kind.__name__}")
    _check_cache_control(tool.get("cache_control"), place)


def _check_tool_choice(tool_choice: Any) -> None:
    if tool_choice is None:
        return
    if not isinstance(tool_choice, dict) or not set(tool_choice) <= TOOL_CHOICE_FIELDS:
        _refuse(f"tool_choice may only hold {', '.join(sorted(TOOL_CHOICE_FIELDS))}")


def _check_messages(messages: Any) -> None:
    if messages is None:
        return  # a missing messages field is the API's own 400, which the upstream gives
    if not isinstance(messages, list):
        _refuse("messages must be a list")
    for index, message in enumerate(messages):
        place = f"messages.{index}"
        if not isinstance(message, dict) or not set(message) <= {"role", "content"}:
            _refuse(f"{place} may only hold role and content")
        content = message.get("content")
        if isinstance(content, list):
            for block_index, block in enumerate(content):
                _check_block(block, f"{place}.content.{block_index}", frozenset(BLOCK_FIELDS))
                if message.get("role") != "user" and isinstance(block, dict) and "cache_control" in block:
                    _refuse(f"{place}.content.{block_index}: cache_control is allowed in user messages only")
        elif content is not None and not isinstance(content, str):
            _refuse(f"{place}.content must be a string or a list of blocks")


def _check_block(block: Any, place: str, allowed_types: frozenset[str]) -> None:
    block_type = block.get("type") if isinstance(block, dict) else None
    if block_type not in allowed_types:
        _refuse(
            f"{place}: the content block type {str(block_type)[:80]!r} is not allowed here; allowed: "
            f"{', '.join(sorted(allowed_types))}; {_WHY}"
        )
    for name in block:
        if name not in BLOCK_FIELDS[block_type]:
            _refuse(f"{place}: the field {name!r} is not allowed in a {block_type} block")
    _check_cache_control(block.get("cache_control"), place)
    content = block.get("content")
    if block_type == "tool_result" and isinstance(content, list):
        for index, inner in enumerate(content):
            _check_block(inner, f"{place}.content.{index}", TOOL_RESULT_BLOCK_TYPES)
            if "cache_control" in inner:
                _refuse(f"{place}.content.{index}: cache_control goes on the tool_result block, not inside it")
    elif block_type == "tool_result" and content is not None and not isinstance(content, str):
        _refuse(f"{place}.content must be a string or a list of text blocks")
