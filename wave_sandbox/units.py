"""Durations and counts as people read and write them: `90s`, `15m`, `7d`; `2.1k` tokens."""

from __future__ import annotations

import re

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_duration(text: str) -> int:
    """Whole seconds; a ValueError naming the accepted forms for anything else."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration: write it as 90s, 15m, 2h, 7d or a number of seconds")
    seconds = float(match.group(1)) * UNIT_SECONDS[match.group(2) or "s"]
    return int(round(seconds))


def format_seconds(duration_ms: int | None) -> str:
    """`46s`; empty when unknown."""
    return "" if duration_ms is None else f"{round(duration_ms / 1000)}s"


def format_tokens(count: int | None) -> str:
    """`2.1k` style: whole numbers below a thousand, one decimal above."""
    if count is None:
        return ""
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        return f"{count / 1000:.1f}k"
    return f"{count / 1_000_000:.1f}M"
