"""What every tool shares: the result type, the context, path resolution and output truncation."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

BINARY_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class ToolResult:
    """The text sent back to the model as a tool_result, and whether it reports a failure."""

    content: str
    is_error: bool = False


class ToolFailure(Exception):
    """Raised inside a tool to return its message to the model as an is_error result."""


@dataclass(frozen=True)
class ToolContext:
    """Where and within which limits tools run."""

    workdir: str
    output_limit: int
    bash_timeout_s: float
    deadline: float | None = None
    """time.monotonic() value at which the step's wall clock runs out; tools never run past it."""

    def resolve(self, path: str) -> str:
        """Relative paths resolve against the working directory; absolute ones stay as they are."""
        return os.path.normpath(os.path.join(self.workdir, path))

    def seconds_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()


class OutputCapture:
    """Keeps the head and the tail of a byte stream within `limit` bytes and counts what falls between.

    Commands can print gigabytes; only `limit` bytes are ever held, whatever the stream's size.
    """

    def __init__(self, limit: int):
        self.head_limit = limit - limit // 2
        self.tail_limit = limit // 2
        self.head = bytearray()
        self.tail = bytearray()
        self.total_bytes = 0

    def append(self, data: bytes) -> None:
        self.total_bytes += len(data)
        room_in_head = self.head_limit - len(self.head)
        if room_in_head > 0:
            self.head += data[:room_in_head]
            data = data[room_in_head:]
        if data and self.tail_limit:
            self.tail += data
            del self.tail[: max(0, len(self.tail) - self.tail_limit)]

    def render(self) -> str:
        omitted = self.total_bytes - len(self.head) - len(self.tail)
        head = bytes(self.head).decode("utf-8", errors="replace")
        if omitted <= 0:
            return head + bytes(self.tail).decode("utf-8", errors="replace")
        tail = bytes(self.tail).decode("utf-8", errors="replace")
        marker = f"[... output truncated: {omitted} bytes omitted ...]"
        return f"{head}\n{marker}\n{tail}"


def truncate_output(text: str, limit: int) -> str:
    """The text itself when it fits in `limit` UTF-8 bytes, else its head and tail around a marker."""
    capture = OutputCapture(limit)
    capture.append(text.encode("utf-8", errors="replace"))
    return capture.render()


def looks_binary(sample: bytes) -> bool:
    """A NUL byte in the first block is how git and grep tell binary from text."""
    return b"\0" in sample[:BINARY_SNIFF_BYTES]


def describe_os_error(exc: OSError, path: str) -> str:
    """`Read-only file system: /src/app.py`: the kernel's words, and the path they concern."""
    reason = exc.strerror or exc.__class__.__name__
    return f"{reason}: {path}"
