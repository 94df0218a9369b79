"""The scripted-model file as pydantic models (``extra="forbid"``, strict types), and its error wording.

``ScriptFile`` validates what the YAML loader built; ``describe_error`` turns pydantic's first
error into the words the script's author reads (``unknown key 'nmae' (expected type, name, input)``).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator
from pydantic_core import PydanticCustomError

from wave_sandbox.spec.schema_errors import show_value

__all__ = ["TOOL_NAME_PATTERN", "MAX_DELAY_S", "ScriptFile", "describe_error", "turn_content"]

TOOL_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
MAX_DELAY_S = 3600.0
_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True)


class TextBlock(BaseModel):
    model_config = _STRICT
    type: Literal["text"]
    text: str

    @field_validator("text")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        # The agent sends the turn back in its next request, where the API refuses blank text.
        if not text.strip():
            raise PydanticCustomError("blank_text", "blank text")
        return text


class ToolUseBlock(BaseModel):
    model_config = _STRICT
    type: Literal["tool_use"]
    name: Annotated[str, Field(pattern=TOOL_NAME_PATTERN.pattern)]
    input: dict[str, Any]

    @field_validator("input")
    @classmethod
    def _plain_json(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:  # YAML can produce sets, binary and NaN, which JSON cannot carry to the agent
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            raise PydanticCustomError("not_plain_json", "not plain JSON") from None
        return value


Block = Annotated[TextBlock | ToolUseBlock, Field(discriminator="type")]
Blocks = Annotated[list[Block], Field(min_length=1)]


class TimedTurn(BaseModel):
    model_config = _STRICT
    delay_s: Annotated[float, Field(ge=0, le=MAX_DELAY_S, allow_inf_nan=False)] = 0.0
    content: Blocks


def _turn_shape(value: Any) -> str | None:
    if isinstance(value, list):
        return "blocks"
    return "timed" if isinstance(value, dict) else None


Turn = Annotated[
    Annotated[Blocks, Tag("blocks")] | Annotated[TimedTurn, Tag("timed")],
    Discriminator(_turn_shape, custom_error_type="turn_shape",
                  custom_error_message="expected a list of content blocks or a mapping {delay_s, content}"),
]  # fmt: skip


class ScriptFile(BaseModel):
    model_config = _STRICT
    steps: dict[str, list[Turn]] | None  # `steps:` with nothing under it: every step answers "Done"
    context_window: Annotated[int, Field(ge=1)] | None = None
    """Most prompt tokens a request may have; a longer one gets the API's "prompt is too long" 400."""


def turn_content(turn: list[TextBlock | ToolUseBlock] | TimedTurn) -> tuple[list[TextBlock | ToolUseBlock], float]:
    """A turn's blocks and delay, whichever of its two shapes it has."""
    return (turn.content, turn.delay_s) if isinstance(turn, TimedTurn) else (turn, 0.0)


_ALLOWED_KEYS = {"text": ("type", "text"), "tool_use": ("type", "name", "input"), "timed": ("delay_s", "content")}
_FIELD_PROBLEMS = {
    "text": "expected non-blank text",
    "name": "expected a tool name of letters, digits, '_' or '-'",
    "input": "expected a mapping of plain JSON values",
}
_TYPE_PROBLEMS = {
    "too_short": "a turn needs at least one content block",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "string_type": "expected text",
}


def describe_error(detail: dict[str, Any], absent: str | None) -> str:
    """The author's words for one pydantic error; ``absent`` is the missing key, when one is."""
    kind, loc = detail["type"], detail["loc"]
    field = next((part for part in reversed(loc) if isinstance(part, str)), "")
    if loc[-1:] == ("[key]",):
        return "a step id must be text; quote it"
    if kind == "extra_forbidden":
        return f"unknown key {field!r} (expected {', '.join(_expected_keys(loc))})"
    if kind == "missing":
        return f"missing key {absent or field!r}"
    if kind == "union_tag_not_found":
        return "missing key 'type'"
    if kind == "union_tag_invalid":
        return f"unknown block type {detail['input'].get('type')!r} (expected text or tool_use)"
    if field == "context_window":
        return f"expected a whole number of tokens of at least 1, got {show_value(detail['input'])}"
    if field == "delay_s":
        return f"expected a number of seconds from 0 to {MAX_DELAY_S:g}, got {show_value(detail['input'])}"
    if field in _FIELD_PROBLEMS and kind != "missing":
        return _FIELD_PROBLEMS[field]
    return _TYPE_PROBLEMS.get(kind, detail["msg"])


def _expected_keys(loc: tuple[Any, ...]) -> tuple[str, ...]:
    """The keys allowed where an unknown key was found: the tag in ``loc`` names the model."""
    tags = [part for part in loc[:-1] if part in _ALLOWED_KEYS]
    return _ALLOWED_KEYS[tags[-1]] if tags else ("steps", "context_window")
