"""Durations as people write them: `90s`, `15m`, `2h`, `7d`, or a bare number of seconds."""

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
