"""What a log record is, once read: its lines (AssembledRecord) and, when it is an error, an ErrorRecord."""

from __future__ import annotations

from dataclasses import dataclass

from wave_sandbox.evidence.tracebacks import ParsedTraceback

__all__ = ["ERROR_LEVELS", "AssembledRecord", "ErrorRecord"]

ERROR_LEVELS = {"error", "err", "critical", "crit", "fatal", "alert", "emerg", "emergency", "panic", "severe", "e", "f"}


@dataclass
class AssembledRecord:
    """The byte span of one record and the text of its lines with their time prefixes removed."""

    start: int
    end: int
    messages: list[str]
    header: str
    time: float | None
    zoned: bool
    reached_block_end: bool


@dataclass
class ErrorRecord:
    """An error found in a log: where, when, what it said, its traceback or HTTP status."""

    source: str
    line_no: int
    time: float | None
    header: str
    message: str
    traceback: ParsedTraceback | None = None
    exception_line: tuple[int, str] | None = None
    http: tuple[str, str, int] | None = None
