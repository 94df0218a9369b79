"""Find a tool call in a model's answer, whatever shape a small model gave it.

Shapes seen from llama.cpp's server: a native call (Messages `tool_use` block, Chat Completions
`tool_calls`), a bare JSON object as the whole text, or JSON inside `<tool_call>...</tool_call>` tags
that the server did not parse. The gateway's translation will need the same recovery for local upstreams.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

TAGGED = re.compile(r"<tool_call>\s*(\{.*?\})\s*</tool_call>", re.DOTALL)


@dataclass
class FoundToolCall:
    shape: str  # "native", "json_text" or "tagged_text"
    name: str
    arguments: dict


def from_text(text: str) -> FoundToolCall | None:
    tagged = TAGGED.search(text)
    candidate, shape = (tagged.group(1), "tagged_text") if tagged else (text.strip(), "json_text")
    try:
        value = json.loads(candidate)
    except ValueError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return None
    arguments = value.get("arguments", value.get("parameters", {}))
    return FoundToolCall(shape, value["name"], arguments if isinstance(arguments, dict) else {})


def from_messages_content(blocks: list) -> FoundToolCall | None:
    for block in blocks:
        if block.type == "tool_use":
            return FoundToolCall("native", block.name, dict(block.input))
    for block in blocks:
        if block.type == "text" and (found := from_text(block.text)):
            return found
    return None


def from_chat_message(message: dict) -> FoundToolCall | None:
    for call in message.get("tool_calls") or []:
        function = call["function"]
        return FoundToolCall("native", function["name"], json.loads(function["arguments"] or "{}"))
    return from_text(message.get("content") or "")
