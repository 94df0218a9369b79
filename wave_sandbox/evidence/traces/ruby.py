"""Ruby backtraces: the interpreter's own, `Exception#full_message`, and Rails-style logs.

    /app/lib/cart.rb:3:in `block in total': undefined method `*' for nil:NilClass (NoMethodError)
            from /app/lib/cart.rb:3:in `total'
            from /app/app.rb:7:in `handle'

    NoMethodError (undefined method `*' for nil:NilClass):
      lib/cart.rb:3:in `total'

Ruby 3.4 quotes methods as 'Cart#total'; older versions as `total'. Both are read.
"""

from __future__ import annotations

import re

from wave_sandbox.evidence.traces.common import ExceptionBlock, build, short_function
from wave_sandbox.evidence.tracebacks import Frame, ParsedTraceback

__all__ = ["CONTINUES", "QUICK", "STARTS", "parse"]

QUICK = re.compile(r"\.rb:\d+:in [`']")
LOCATION = r"(?P<path>[^\s:][^:]*?\.rb):(?P<line>\d+):in [`'](?P<function>[^'`]+)'"
FIRST = re.compile(r"^" + LOCATION + r": (?P<message>.*) \((?P<type>[A-Z][\w:]*)\)\s*$")
FRAME = re.compile(r"^\s*(?:from )?" + LOCATION + r"\s*$")
HEADER = re.compile(r"^(?P<type>[A-Z][\w:]*(?:Error|Exception|[A-Z]\w*))(?: \((?P<paren>.*)\):|: (?P<message>.*))\s*$")
STARTS = re.compile(r"^[^\s:][^:]*?\.rb:\d+:in [`'].*\([A-Z][\w:]*\)\s*$")
CONTINUES = re.compile(r"^\s*(?:from )?[^\s:][^:]*?\.rb:\d+:in [`']")
BLOCK = re.compile(r"^(?:block(?: \(\d+ levels\))? in |rescue in |ensure in )")


def parse(lines: list[str]) -> ParsedTraceback | None:
    block: ExceptionBlock | None = None
    for index, text in enumerate(lines):
        first = FIRST.match(text.strip())
        if first and block is None:
            block = ExceptionBlock(first["type"], first["message"].strip(), index, [_frame(first)])
            continue
        frame = FRAME.match(text)
        if frame:
            if block is None:
                block = _header_above(lines, index)
            if block is not None:
                block.frames.append(_frame(frame))
        elif block is not None and block.frames and text.strip() and not text[:1].isspace():
            break
    return build([block]) if block else None


def _header_above(lines: list[str], index: int) -> ExceptionBlock | None:
    for above in range(index - 1, -1, -1):
        header = HEADER.match(lines[above].strip())
        if header:
            return ExceptionBlock(header["type"], (header["paren"] or header["message"] or "").strip(), above)
        if lines[above].strip():
            return None
    return None


def _frame(match: re.Match) -> Frame:
    function = BLOCK.sub("", match["function"])
    qualifier, _, method = function.replace("::", ".").replace("#", ".").rpartition(".")
    return Frame(match["path"], int(match["line"]), short_function(qualifier, method))
