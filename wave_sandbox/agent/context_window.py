"""Keeping the conversation inside the model's context window.

The prompt is measured before each request: its JSON length divided by characters per token, a
ratio learnt from the sizes the model reports (the reported prompt tokens of the last request against
its length; 3 until the first answer, which overestimates every text). Over the step's prompt budget
(most of the context window, less the answer's max_tokens), the conversation shrinks, down to a
share of the budget so that the next turns grow without shrinking again (each shrinking changes the
prompt's early part, so the turns after it cannot read the earlier turns' prompt from the cache), in
two stages:

1. the oldest tool results are replaced by a short stub naming the call
   ("[result of read_file src/db.py cleared to save context; call again if needed]"), oldest first,
   the latest results always kept;
2. if that is not enough, the earliest turns are compacted into one summary of what was said and
   called, added to the task prompt (which is always kept).

The provider's "prompt is too long: N tokens > W maximum" teaches the real size and window: the ratio
and the window are corrected and the same shrinking runs before the request is retried.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["ContextKeeper", "Shrunk", "parse_prompt_too_long", "tool_call_label"]

DEFAULT_CHARS_PER_TOKEN = 3.0
# What a reported size may teach: JSON text runs 2 to 5 characters a token; an upstream reporting
# nonsense must not make the agent think a huge prompt is small.
CHARS_PER_TOKEN_RANGE = (1.0, 6.0)
BUDGET_SHARE = 0.9
SHRINK_TO_SHARE = 0.5
KEPT_RECENT_USER_MESSAGES = 2
KEPT_RECENT_TURNS = 2
SUMMARY_LINE_CHARS = 160
SUMMARY_MAX_CHARS = 4000
SUMMARY_HEADER = "[Summary of earlier turns, removed to save context]"
CLEARED_PREFIX = "[result of "
TOO_LONG = re.compile(r"prompt is too long:\s*(\d+)\s*tokens\s*>\s*(\d+)\s*maximum")
LABEL_KEYS = ("path", "command", "pattern")


@dataclass(frozen=True)
class Shrunk:
    """What one shrinking did, for the step's log."""

    cleared: int
    compacted_turns: int
    before_tokens: int
    after_tokens: int

    def describe(self) -> str:
        parts = []
        if self.cleared:
            parts.append(f"cleared {self.cleared} old tool result(s)")
        if self.compacted_turns:
            parts.append(f"compacted the earliest {self.compacted_turns} turn(s) into a summary")
        if not parts:
            return f"context: about {self.before_tokens} tokens, near the window, and nothing left to clear or compact"
        return f"context: {' and '.join(parts)}, about {self.before_tokens} -> {self.after_tokens} tokens"


def parse_prompt_too_long(message: str) -> tuple[int, int] | None:
    """(prompt tokens, maximum) from the provider's "prompt is too long" message, else None."""
    found = TOO_LONG.search(message)
    return (int(found.group(1)), int(found.group(2))) if found else None


def tool_call_label(name: str, arguments: Any) -> str:
    """`read_file src/db.py`: the tool and its main argument, for stubs and summaries."""
    if isinstance(arguments, dict):
        main = next((arguments[key] for key in LABEL_KEYS if isinstance(arguments.get(key), str)), None)
        if main is not None:
            return f"{name} {' '.join(main.split())[:SUMMARY_LINE_CHARS]}"
    return name


class ContextKeeper:
    """Measures requests and shrinks the conversation (in place) when it nears the context window."""

    def __init__(self, context_window: int, max_tokens: int) -> None:
        self.context_window = context_window
        self.max_tokens = max_tokens
        self.chars_per_token = DEFAULT_CHARS_PER_TOKEN

    @property
    def prompt_budget(self) -> int:
        room = max(self.context_window - self.max_tokens, self.context_window // 2)
        return int(room * BUDGET_SHARE)

    @property
    def shrink_target(self) -> int:
        return int(self.prompt_budget * SHRINK_TO_SHARE)

    def estimate(self, request: dict[str, Any]) -> int:
        return int(len(_json(request)) / self.chars_per_token) + 1

    def learn(self, request: dict[str, Any], prompt_tokens: int) -> None:
        """Correct the ratio from the prompt tokens the model reported for ``request``."""
        if prompt_tokens > 0:
            low, high = CHARS_PER_TOKEN_RANGE
            self.chars_per_token = min(high, max(low, len(_json(request)) / prompt_tokens))

    def learn_too_long(self, request: dict[str, Any], prompt_tokens: int, maximum: int) -> None:
        """The provider said ``request`` has ``prompt_tokens`` and the window is ``maximum``."""
        self.learn(request, prompt_tokens)
        self.context_window = min(self.context_window, maximum)

    def fit(self, messages: list[dict], request_of) -> Shrunk | None:
        """Shrink ``messages`` until ``request_of(messages)`` fits the budget; None when it already did."""
        before = self.estimate(request_of(messages))
        if before <= self.prompt_budget:
            return None
        cleared = self._clear_old_results(messages, request_of)
        compacted = 0
        if self.estimate(request_of(messages)) > self.prompt_budget:  # clearing was not enough
            compacted = self._compact(messages, request_of)
        return Shrunk(cleared, compacted, before, self.estimate(request_of(messages)))

    def _clear_old_results(self, messages: list[dict], request_of) -> int:
        calls = _tool_calls_by_id(messages)
        user_positions = [index for index, message in enumerate(messages) if message["role"] == "user"]
        cleared = 0
        for index in user_positions[1:-KEPT_RECENT_USER_MESSAGES] if len(user_positions) > 1 else ():
            for block in messages[index]["content"] if isinstance(messages[index]["content"], list) else ():
                if block.get("type") != "tool_result" or _is_cleared(block):
                    continue
                name, arguments = calls.get(block.get("tool_use_id"), ("a tool call", None))
                label = tool_call_label(name, arguments)
                block["content"] = f"[result of {label} cleared to save context; call again if needed]"
                cleared += 1
                if self.estimate(request_of(messages)) <= self.shrink_target:
                    return cleared
        return cleared

    def _compact(self, messages: list[dict], request_of) -> int:
        """Fold the earliest assistant/user pairs after the task prompt into a summary in the first message."""
        removable = (len(messages) - 1) // 2 - KEPT_RECENT_TURNS
        removed = 0
        while removed < removable and self.estimate(request_of(messages)) > self.shrink_target:
            step = max(1, (removable - removed) // 2)
            turns = messages[1 : 1 + 2 * step]
            del messages[1 : 1 + 2 * step]
            _add_summary(messages[0], turns, removed)
            removed += step
        return removed


def _json(request: dict[str, Any]) -> str:
    return json.dumps(request, ensure_ascii=False, separators=(",", ":"))


def _is_cleared(block: dict) -> bool:
    content = block.get("content")
    return isinstance(content, str) and content.startswith(CLEARED_PREFIX)


def _tool_calls_by_id(messages: list[dict]) -> dict[str, tuple[str, Any]]:
    calls = {}
    for message in messages:
        if message["role"] == "assistant" and isinstance(message["content"], list):
            for block in message["content"]:
                if block.get("type") == "tool_use":
                    calls[block["id"]] = (block["name"], block.get("input"))
    return calls


def _add_summary(first: dict, turns: list[dict], already: int) -> None:
    """Append what ``turns`` said and called to the first message's summary block (made on first use)."""
    lines = []
    for message in turns:
        if message["role"] != "assistant" or not isinstance(message["content"], list):
            continue
        for block in message["content"]:
            if block.get("type") == "text" and block.get("text", "").strip():
                lines.append("you said: " + " ".join(block["text"].split())[:SUMMARY_LINE_CHARS])
            elif block.get("type") == "tool_use":
                lines.append("you called " + tool_call_label(block["name"], block.get("input")))
    content = first["content"]
    if isinstance(content, str):
        content = first["content"] = [{"type": "text", "text": content}]
    if not content[-1].get("text", "").startswith(SUMMARY_HEADER):
        content.append({"type": "text", "text": SUMMARY_HEADER})
    summary = content[-1]["text"] + "".join(f"\n- {line}" for line in lines)
    if len(summary) > SUMMARY_MAX_CHARS:  # keep the head (what the step began with) and the newest lines
        summary = summary[: SUMMARY_MAX_CHARS // 2] + "\n- ...\n" + summary[-SUMMARY_MAX_CHARS // 2 :]
    content[-1] = {"type": "text", "text": summary}
