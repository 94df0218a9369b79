"""What every language's trace parser shares: the result it builds from blocks of frames.

A parser reads the lines of one record and returns a ParsedTraceback (tracebacks.py): the exception
reported (for chained exceptions the root cause, whose frames are the innermost), every frame
outermost first, and the root cause's own frames. Languages print frames innermost first; the
parsers collect them as printed and `build` reverses them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from wave_sandbox.evidence.tracebacks import Frame, ParsedTraceback

__all__ = ["ExceptionBlock", "build", "short_function"]

QUALIFIER_NOISE = re.compile(r"[*()&<>]")


@dataclass
class ExceptionBlock:
    """One exception of a chain as printed: its type, message, line index and frames (innermost first)."""

    exception_type: str
    message: str
    line_index: int
    frames: list[Frame] = field(default_factory=list)


def build(blocks: list[ExceptionBlock], root: int = -1) -> ParsedTraceback | None:
    """The traceback of a chain whose blocks are printed outermost exception first; `root` is the
    block of the root cause (the last one by default). None when no block holds a frame."""
    if not blocks or not any(block.frames for block in blocks):
        return None
    root_block = blocks[root]
    ordered = [block for block in blocks if block is not root_block] + [root_block]
    return ParsedTraceback(
        exception_type=root_block.exception_type,
        message=root_block.message,
        frames=[frame for block in ordered for frame in reversed(block.frames)],
        final_frames=list(reversed(root_block.frames)) or list(reversed(ordered[-2].frames if len(ordered) > 1 else [])),
        chained_types=[block.exception_type for block in blocks if block is not root_block and block.exception_type],
        exception_line_index=root_block.line_index,
    )


def short_function(qualifier: str, method: str) -> str:
    """`Class.method` from a qualifier and a method name; the method name alone without a qualifier."""
    qualifier = QUALIFIER_NOISE.sub("", qualifier).strip(".")
    return f"{qualifier}.{method}" if qualifier else method
