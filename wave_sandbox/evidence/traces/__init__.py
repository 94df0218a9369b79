"""Stack traces of every common language, behind one interface.

    parse_any_traceback(lines) -> ParsedTraceback | None     Python first, then the others
    starts_trace(text), continues_trace(text)                 the shapes records.py joins into one record

One module per language family: jvm (Java, Kotlin, Scala), golang, javascript (Node.js, TypeScript),
ruby, dotnet, rust, php; Python's own reader is tracebacks.py. Each module has QUICK (a cheap test
that its frames are there), STARTS and CONTINUES (the first line of a trace, and its later lines
that are not indented or carry their own time), and parse(lines).
"""

from __future__ import annotations

from wave_sandbox.evidence.traces import dotnet, golang, javascript, jvm, php, ruby, rust
from wave_sandbox.evidence.tracebacks import ParsedTraceback, parse_traceback

__all__ = ["LANGUAGES", "continues_trace", "parse_any_traceback", "starts_trace"]

# Most specific frame shapes first: a .NET frame (`at A.B() in F:line 1`) is not a Java one.
LANGUAGES = {"go": golang, "rust": rust, "php": php, "ruby": ruby, "dotnet": dotnet, "jvm": jvm, "javascript": javascript}
PYTHON_MARKERS = ("Traceback (most recent call last)", "Exception Group Traceback")


def parse_any_traceback(lines: list[str]) -> ParsedTraceback | None:
    """The trace among the lines of one record, in whichever language it is written."""
    joined = "\n".join(lines)
    if any(marker in joined for marker in PYTHON_MARKERS):
        parsed = parse_traceback(lines)
        if parsed is not None:
            return parsed
    for language, module in LANGUAGES.items():
        if module.QUICK.search(joined):
            parsed = module.parse(lines)
            if parsed is not None and parsed.frames:
                parsed.language = language
                return parsed
    return None


def starts_trace(text: str) -> bool:
    """A line that begins a stack trace in some language (an exception line, a panic)."""
    return any(module.STARTS.match(text) for module in LANGUAGES.values())


def continues_trace(text: str) -> bool:
    """A line that belongs inside a stack trace in some language (a frame, `Caused by:`, a goroutine)."""
    return any(module.CONTINUES.match(text) for module in LANGUAGES.values())
