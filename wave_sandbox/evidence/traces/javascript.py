"""Node.js and TypeScript stack traces as V8 prints them (`error.stack`).

    TypeError: Cannot read properties of undefined (reading 'price')
        at Cart.total (/usr/src/app/src/cart.js:12:20)
        at /usr/src/app/src/cart.js:30:7
        at processTicksAndRejections (node:internal/process/task_queues:95:5)

`node:` and `<anonymous>` locations are the runtime's own and never map to the repository. A frame
in compiled JavaScript whose TypeScript source is in the repository needs a source map to be placed
(frames.py notes that).
"""

from __future__ import annotations

import re

from wave_sandbox.evidence.traces.common import ExceptionBlock, build, short_function
from wave_sandbox.evidence.tracebacks import Frame, ParsedTraceback

__all__ = ["CONTINUES", "QUICK", "STARTS", "parse"]

QUICK = re.compile(r"^\s+at (?:.+ \()?\S+:\d+:\d+\)?\s*$", re.MULTILINE)
FRAME = re.compile(r"^\s+at (?:(?P<function>.+?) \()?(?P<path>(?:file://)?[^()\s][^()]*?):(?P<line>\d+):(?P<column>\d+)\)?\s*$")
RUNTIME_FRAME = re.compile(r"^\s+at (?:.+ \()?(?:<anonymous>|native|node:[^)]*)\)?\s*$")
EXCEPTION = re.compile(r"^(?:Uncaught )?(?P<type>[A-Za-z_$][\w$.]*)(?: \[[\w\-]+\])?(?::\s?(?P<message>.*))?\s*$")
EMBEDDED_EXCEPTION = re.compile(r"\b(?P<type>[A-Z][\w$]*(?:Error|Exception))(?: \[[\w\-]+\])?: (?P<message>.*)$")
STARTS = re.compile(r"^(?:Uncaught )?(?:[A-Z][\w$]*)?(?:Error|Exception)(?: \[[\w\-]+\])?(?::|$)")
CONTINUES = re.compile(r"^\s+at (?:.+ \()?\S+:\d+:\d+\)?\s*$|^\s+at (?:.+ \()?(?:<anonymous>|native|node:[^)]*)\)?\s*$")
PREFIXES = ("async ", "new ")
ALIAS = re.compile(r" \[as [^\]]+\]$")


def parse(lines: list[str]) -> ParsedTraceback | None:
    first = next((index for index, text in enumerate(lines) if FRAME.match(text) or RUNTIME_FRAME.match(text)), None)
    if first is None:
        return None
    found = _exception_line(lines, first)
    if found is None:
        return None
    block = ExceptionBlock(*found)
    for text in lines[first:]:
        frame = FRAME.match(text)
        if frame:
            block.frames.append(_frame(frame))
        elif not RUNTIME_FRAME.match(text):
            break
    return build([block])


def _exception_line(lines: list[str], first_frame: int) -> tuple[str, str, int] | None:
    """(type, message, index) of the line above the frames: `TypeError: ...` on its own, or at the
    end of a logged message (`request failed: TypeError: ...`)."""
    for index in range(first_frame - 1, -1, -1):
        text = lines[index].strip()
        if not text:
            continue
        exception = EXCEPTION.match(text) or EMBEDDED_EXCEPTION.search(text)
        return (exception["type"], (exception["message"] or "").strip(), index) if exception else None
    return None


def _frame(match: re.Match) -> Frame:
    path = match["path"].removeprefix("file://")
    function = ALIAS.sub("", match["function"] or "<anonymous>")
    for prefix in PREFIXES:
        function = function.removeprefix(prefix)
    qualifier, _, method = function.rpartition(".")
    if qualifier == "Object" and method == "<anonymous>":
        qualifier = ""
    return Frame(path, int(match["line"]), short_function(qualifier, method))
