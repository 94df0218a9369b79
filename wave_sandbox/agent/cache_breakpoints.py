"""Prompt-cache breakpoints: which blocks of a request carry `cache_control`.

Each turn resends the whole conversation, so each turn marks, within the API's limit of four:
- the stable prefix: the last tool definition and the system prompt (tools come first in the API's
  order, so the system breakpoint covers both);
- the latest message's last block, so the next turn reads this turn's whole prompt from the cache;
- the previous user message's last block, which the previous turn wrote, so the read still finds it
  when a turn adds more blocks than the provider looks back over from one breakpoint.

The request is copied; the conversation the loop keeps is never marked (a mark stays where it is put,
and old marks would pile up past the limit).
"""

from __future__ import annotations

from typing import Any

EPHEMERAL = {"type": "ephemeral"}
MAX_BREAKPOINTS = 4

__all__ = ["with_cache_breakpoints", "MAX_BREAKPOINTS"]


def with_cache_breakpoints(request: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``request`` with cache_control on its stable prefix and its latest messages."""
    marked = dict(request)
    if marked.get("tools"):
        marked["tools"] = [*marked["tools"][:-1], _marked(marked["tools"][-1])]
    if marked.get("system"):
        marked["system"] = [_marked({"type": "text", "text": marked["system"]})]
    messages = list(marked.get("messages") or ())
    user_positions = [index for index, message in enumerate(messages) if message.get("role") == "user"]
    for index in user_positions[-2:]:
        messages[index] = _with_last_block_marked(messages[index])
    marked["messages"] = messages
    return marked


def _marked(block: dict[str, Any]) -> dict[str, Any]:
    return dict(block, cache_control=dict(EPHEMERAL))


def _with_last_block_marked(message: dict[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    if not content:
        return message
    return dict(message, content=[*content[:-1], _marked(content[-1])])
