"""Human-readable progress on stderr (the runner saves it as the step's agent.log); stdout is kept for the result."""

from __future__ import annotations

import json
import sys
import time
from typing import Callable, TextIO

INPUT_PREVIEW_CHARS = 120


class ProgressLog:
    """Writes `[  12.3s] message` lines, the time counted from the agent's start."""

    def __init__(self, started_at: float, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic):
        self.started_at = started_at
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock

    def line(self, message: str) -> None:
        elapsed = self.clock() - self.started_at
        print(f"[{elapsed:7.1f}s] {message}", file=self.stream, flush=True)


def preview_tool_input(arguments: object, limit: int = INPUT_PREVIEW_CHARS) -> str:
    """The tool input as compact one-line JSON, cut to `limit` characters."""
    text = json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def first_line(text: str, limit: int = INPUT_PREVIEW_CHARS) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."
