"""Python tracebacks read from log text: frames, the exception type and its message.

A traceback may be a chain ("During handling of the above exception, another exception occurred"):
the last exception is the one reported, the frames of every link are kept, the innermost last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "CHAIN_LINES",
    "TRACEBACK_START",
    "Frame",
    "ParsedTraceback",
    "looks_like_exception_line",
    "parse_traceback",
]

TRACEBACK_START = "Traceback (most recent call last):"
CHAIN_LINES = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
FRAME_LINE = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<function>.+?))?\s*$')
EXCEPTION_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?:: (?P<message>.*)|:)?\s*$")
# Group tracebacks of Python 3.11 draw their frames after a "| " margin.
EXCEPTION_GROUP_MARGIN = re.compile(r"^\s*[|+][-+ |]*")


@dataclass(frozen=True)
class Frame:
    """One stack frame as the log wrote it: the deployed path, its line number and function, and the
    source line Python printed under it ("" when the log has none)."""

    path: str
    line: int
    function: str
    source: str = field(default="", compare=False)


@dataclass
class ParsedTraceback:
    """The exception that was raised last, its message, and every frame (outermost first)."""

    exception_type: str
    message: str
    frames: list[Frame] = field(default_factory=list)
    final_frames: list[Frame] = field(default_factory=list)
    """The frames of the last exception of the chain only."""
    chained_types: list[str] = field(default_factory=list)
    exception_line_index: int = 0
    """Index, among the lines given, of the line naming the last exception."""
    language: str = "python"


def looks_like_exception_line(text: str) -> bool:
    """`pkg.module.SomeError: message` or a bare `SomeError` at the start of a line."""
    match = EXCEPTION_LINE.match(text)
    return bool(match) and not text.startswith(("Traceback", "During handling", "The above exception"))


def _source_line(lines: list[str], index: int) -> str:
    """The code line Python prints under a frame, if the next line is one (not a frame, not carets)."""
    if index >= len(lines):
        return ""
    text = lines[index]
    stripped = text.strip()
    if not text[:1].isspace() or FRAME_LINE.match(text) or not stripped or set(stripped) <= set("^~"):
        return ""
    return stripped


def parse_traceback(lines: list[str]) -> ParsedTraceback | None:
    """Parse the lines of one record (messages without their time prefixes); None without a traceback."""
    blocks: list[list[Frame]] = []
    exceptions: list[tuple[str, str, int]] = []
    in_block = False
    for index, raw in enumerate(lines):
        text = EXCEPTION_GROUP_MARGIN.sub("", raw) if raw.lstrip().startswith(("|", "+")) else raw
        stripped = text.strip()
        if stripped.startswith("Traceback (most recent call last)") or stripped.startswith(
            "Exception Group Traceback"
        ):
            blocks.append([])
            in_block = True
            continue
        frame = FRAME_LINE.match(text)
        if frame and in_block:
            source = _source_line(lines, index + 1)
            blocks[-1].append(Frame(frame["path"], int(frame["line"]), (frame["function"] or "<module>").strip(), source))
            continue
        if in_block and text[:1] not in (" ", "\t") and looks_like_exception_line(stripped):
            match = EXCEPTION_LINE.match(stripped)
            exceptions.append((match["type"], (match["message"] or "").strip(), index))
            in_block = False
    if not blocks or not exceptions:
        return None
    exception_type, message, index = exceptions[-1]
    return ParsedTraceback(
        exception_type=exception_type,
        message=message,
        frames=[frame for block in blocks for frame in block],
        final_frames=blocks[-1],
        chained_types=[name for name, _, _ in exceptions[:-1]],
        exception_line_index=index,
    )
