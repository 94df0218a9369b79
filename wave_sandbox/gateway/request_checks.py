"""Strict checks of Messages API requests, as the real API makes them.

The scripted model answers from a script, so nothing would notice an agent that drifts from the
protocol (a tool_result for the wrong id, two user turns in a row) until it met the real API. These
checks refuse such requests with the API's own 400 ``invalid_request_error`` messages instead.
"""

from __future__ import annotations

from typing import Any, NoReturn

from wave_sandbox.gateway.script_file import TOOL_NAME_PATTERN

__all__ = ["find_request_problem"]

KNOWN_BLOCK_TYPES = frozenset(
    {
        "text", "image", "document", "search_result", "thinking", "redacted_thinking", "tool_use",
        "tool_result", "server_tool_use", "web_search_tool_result", "web_fetch_tool_result",
        "code_execution_tool_result", "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result", "tool_search_tool_result", "container_upload",
        "mcp_tool_use", "mcp_tool_result",
    }
)
_TOOL_CHOICE_TYPES = ("auto", "any", "tool", "none")


class _Problem(Exception):
    """Internal: the first problem found; never leaves this module."""


def _fail(message: str) -> NoReturn:
    raise _Problem(message)


def find_request_problem(payload: Any, needs_max_tokens: bool = True) -> str | None:
    """The first thing the real API would refuse in ``payload``, or None when it is well formed.

    ``needs_max_tokens`` is False for ``count_tokens``, which takes no ``max_tokens``.
    """
    try:
        _check_request(payload, needs_max_tokens)
    except _Problem as problem:
        return str(problem)
    return None


def _check_request(payload: Any, needs_max_tokens: bool) -> None:
    if not isinstance(payload, dict):
        _fail("the request body must be a JSON object")
    if not isinstance(payload.get("model"), str) or not payload["model"]:
        _fail("model: Field required" if "model" not in payload else "model: Input should be a valid string")
    if needs_max_tokens:
        _check_max_tokens(payload)
    if "stream" in payload and not isinstance(payload["stream"], bool):
        _fail("stream: Input should be a valid boolean")
    _check_system(payload.get("system"))
    tool_names = _check_tools(payload.get("tools"))
    _check_tool_choice(payload.get("tool_choice"), tool_names)
    if "messages" not in payload:
        _fail("messages: Field required")
    _check_messages(payload["messages"], defines_tools=bool(tool_names))


def _check_max_tokens(payload: dict[str, Any]) -> None:
    if "max_tokens" not in payload:
        _fail("max_tokens: Field required")
    max_tokens = payload["max_tokens"]
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
        _fail("max_tokens: Input should be a valid integer")
    if max_tokens < 1:
        _fail("max_tokens: Input should be greater than or equal to 1")


def _check_system(system: Any) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        _fail("system: Input should be a valid string or a list of text blocks")
    for index, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text" or not isinstance(block.get("text"), str):
            _fail(f"system.{index}: Input should be a text block")


def _check_tools(tools: Any) -> set[str]:
    if tools is None:
        return set()
    if not isinstance(tools, list):
        _fail("tools: Input should be a valid list")
    names: list[str] = [_check_tool(tool, f"tools.{index}") for index, tool in enumerate(tools)]
    if len(set(names)) != len(names):
        _fail("tools: Tool names must be unique.")
    return set(names)


def _check_tool(tool: Any, place: str) -> str:
    if not isinstance(tool, dict):
        _fail(f"{place}: Input should be a valid dictionary")
    if not isinstance(tool.get("name"), str) or not TOOL_NAME_PATTERN.match(tool["name"]):
        if "name" not in tool:
            _fail(f"{place}.name: Field required")
        _fail(f"{place}.name: String should match pattern '{TOOL_NAME_PATTERN.pattern}'")
    if tool.get("type") not in (None, "custom"):
        return tool["name"]  # a versioned server tool (bash_20250124, ...) has no input_schema
    schema = tool.get("input_schema")
    if not isinstance(schema, dict):
        _fail(f"{place}.custom.input_schema: Field required")
    if schema.get("type") != "object":
        _fail(f"{place}.custom.input_schema.type: Input should be 'object'")
    return tool["name"]


def _check_tool_choice(tool_choice: Any, tool_names: set[str]) -> None:
    if tool_choice is None:
        return
    if not isinstance(tool_choice, dict) or tool_choice.get("type") not in _TOOL_CHOICE_TYPES:
        _fail(f"tool_choice: Input tag should be one of {', '.join(_TOOL_CHOICE_TYPES)}")
    if tool_choice["type"] == "tool" and tool_choice.get("name") not in tool_names:
        _fail(f"tool_choice.tool.name: Tool '{tool_choice.get('name')}' not found in 'tools'")


def _check_messages(messages: Any, defines_tools: bool) -> None:
    if not isinstance(messages, list):
        _fail("messages: Input should be a valid list")
    if not messages:
        _fail("messages: at least one message is required")
    open_tool_use_ids: list[str] = []
    seen_tool_use_ids: set[str] = set()
    for index, message in enumerate(messages):
        place = f"messages.{index}"
        role, blocks = _check_message_shape(message, place, is_last=index == len(messages) - 1)
        _check_role_order(index, role, messages)
        for block_index, block in enumerate(blocks):
            _check_block(block, f"{place}.content.{block_index}", role)
        if not defines_tools and any(block["type"] in ("tool_use", "tool_result") for block in blocks):
            _fail("Requests which include `tool_use` or `tool_result` blocks must define tools.")
        if role == "user":
            _check_results_answer(blocks, open_tool_use_ids, index)
            open_tool_use_ids = []
        else:
            open_tool_use_ids = _new_tool_use_ids(blocks, seen_tool_use_ids, place)


def _check_message_shape(message: Any, place: str, is_last: bool) -> tuple[str, list[dict[str, Any]]]:
    if not isinstance(message, dict):
        _fail(f"{place}: Input should be a valid dictionary")
    for key in message:
        if key not in ("role", "content"):
            _fail(f"{place}.{key}: Extra inputs are not permitted")
    if message.get("role") not in ("user", "assistant"):
        _fail(f"{place}.role: Input should be 'user' or 'assistant'")
    content = message.get("content")
    if isinstance(content, str):
        blocks = [{"type": "text", "text": content}] if content else []
    elif isinstance(content, list):
        blocks = content
    else:
        missing = "content" not in message
        _fail(f"{place}.content: " + ("Field required" if missing else "Input should be a valid string or list"))
    if not blocks and not (is_last and message["role"] == "assistant"):
        _fail(f"{place}: all messages must have non-empty content except for the optional final assistant message")
    return message["role"], blocks


def _check_role_order(index: int, role: str, messages: list[Any]) -> None:
    if index == 0 and role != "user":
        _fail('messages: first message must use the "user" role')
    if index > 0 and messages[index - 1]["role"] == role:
        _fail(
            'messages: roles must alternate between "user" and "assistant", '
            f'but found multiple "{role}" roles in a row'
        )


def _check_block(block: Any, place: str, role: str) -> None:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        _fail(f"{place}.type: Field required")
    block_type = block["type"]
    if block_type not in KNOWN_BLOCK_TYPES:
        _fail(f"{place}.type: Input tag '{block_type}' does not match any of the expected content block types")
    if block_type == "text":
        _check_text_block(block, place)
    elif block_type == "tool_use":
        _check_tool_use_block(block, place, role)
    elif block_type == "tool_result":
        _check_tool_result_block(block, place, role)


def _check_text_block(block: dict[str, Any], place: str) -> None:
    if not isinstance(block.get("text"), str):
        _fail(f"{place}.text: Field required")
    if not block["text"]:
        _fail("messages: text content blocks must be non-empty")
    if not block["text"].strip():
        _fail("messages: text content blocks must contain non-whitespace text")


def _check_tool_use_block(block: dict[str, Any], place: str, role: str) -> None:
    if role != "assistant":
        _fail(f"{place}: `tool_use` blocks can only appear in assistant messages")
    for key, kind in (("id", str), ("name", str), ("input", dict)):
        if not isinstance(block.get(key), kind):
            _fail(f"{place}.tool_use.{key}: Field required")


def _check_tool_result_block(block: dict[str, Any], place: str, role: str) -> None:
    if role != "user":
        _fail(f"{place}: `tool_result` blocks can only appear in user messages")
    if not isinstance(block.get("tool_use_id"), str):
        _fail(f"{place}.tool_result.tool_use_id: Field required")
    if "is_error" in block and not isinstance(block["is_error"], bool):
        _fail(f"{place}.tool_result.is_error: Input should be a valid boolean")
    content = block.get("content", "")
    if isinstance(content, list):
        for index, inner in enumerate(content):
            _check_block(inner, f"{place}.tool_result.content.{index}", role)
    elif not isinstance(content, str):
        _fail(f"{place}.tool_result.content: Input should be a valid string or list")


def _new_tool_use_ids(blocks: list[dict[str, Any]], seen: set[str], place: str) -> list[str]:
    ids = [block["id"] for block in blocks if block["type"] == "tool_use"]
    for tool_use_id in ids:
        if tool_use_id in seen:
            _fail(f"{place}: `tool_use` ids must be unique, found {tool_use_id} more than once")
        seen.add(tool_use_id)
    return ids


def _check_results_answer(blocks: list[dict[str, Any]], open_ids: list[str], index: int) -> None:
    answered: list[str] = []
    for block_index, block in enumerate(blocks):
        if block["type"] != "tool_result":
            continue
        if block["tool_use_id"] not in open_ids or block["tool_use_id"] in answered:
            _fail(
                f"messages.{index}.content.{block_index}: unexpected `tool_use_id` found in `tool_result` blocks: "
                f"{block['tool_use_id']}. Each `tool_result` block must have a corresponding `tool_use` block in "
                "the previous message."
            )
        answered.append(block["tool_use_id"])
    unanswered = [tool_use_id for tool_use_id in open_ids if tool_use_id not in answered]
    if unanswered:
        _fail(
            f"messages.{index - 1}: `tool_use` ids were found without `tool_result` blocks immediately after: "
            f"{', '.join(unanswered)}. Each `tool_use` block must have a corresponding `tool_result` block in the "
            "next message."
        )
