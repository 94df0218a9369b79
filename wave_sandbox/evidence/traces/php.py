r"""PHP uncaught exceptions (`PHP Fatal error:  Uncaught ...`) and `Exception::getTraceAsString()`.

    PHP Fatal error:  Uncaught DivisionByZeroError: Division by zero in /var/www/src/Cart.php:12
    Stack trace:
    #0 /var/www/src/Cart.php(12): intdiv()
    #1 /var/www/src/Checkout.php(20): App\Cart->total()
    #2 {main}
      thrown in /var/www/src/Cart.php on line 12

Frame #k says where function #k was called from, which is inside function #k+1; the exception's own
location is inside function #0 (or is #0's call site when #0 is a built-in that threw).
"""

from __future__ import annotations

import re

from wave_sandbox.evidence.traces.common import ExceptionBlock, build, short_function
from wave_sandbox.evidence.tracebacks import Frame, ParsedTraceback

__all__ = ["CONTINUES", "QUICK", "STARTS", "parse"]

QUICK = re.compile(r"^#\d+ (?:\S+\(\d+\): |\{main\})", re.MULTILINE)
UNCAUGHT = re.compile(
    r"(?:^|: |\s)(?:Uncaught |Next )?(?P<type>[A-Z][\w\\]*(?:Error|Exception|Throwable)?): (?P<message>.*?) in "
    r"(?P<path>\S+?\.php)(?::(?P<line>\d+)| on line (?P<on_line>\d+))\s*$"
)
FRAME = re.compile(r"^\s*#\d+ (?:(?P<path>\S+?\.php)\((?P<line>\d+)\)|\[internal function\]): (?P<function>[^(]+)\(")
MAIN = re.compile(r"^\s*#\d+ \{main\}\s*$")
STARTS = re.compile(r"^(?:PHP )?(?:Fatal error|Warning|Notice):|^Stack trace:$")
CONTINUES = re.compile(r"^Stack trace:$|^#\d+ |^\s+thrown in \S+ on line \d+$|^Next [A-Z]")


def parse(lines: list[str]) -> ParsedTraceback | None:
    exception, exception_index = None, 0
    calls: list[tuple[str | None, int, str]] = []
    for index, text in enumerate(lines):
        uncaught = UNCAUGHT.search(text.strip())
        if uncaught and exception is None:
            exception, exception_index = uncaught, index
            continue
        frame = FRAME.match(text)
        if frame and exception is not None:
            calls.append((frame["path"], int(frame["line"] or 0), _function(frame["function"])))
        elif MAIN.match(text):
            calls.append((None, 0, "{main}"))
    if exception is None or not calls:
        return None
    return build([ExceptionBlock(exception["type"].rsplit("\\", 1)[-1], exception["message"].strip(),
                                 exception_index, _frames(exception, calls))])


def _frames(exception: re.Match, calls: list[tuple[str | None, int, str]]) -> list[Frame]:
    """Innermost first: the exception's location, then each call site, in the caller's function."""
    path, line = exception["path"], int(exception["line"] or exception["on_line"])
    frames = []
    first_path, first_line, _ = calls[0]
    if (first_path, first_line) != (path, line):
        frames.append(Frame(path, line, calls[0][2]))
    for position, (call_path, call_line, _) in enumerate(calls):
        if call_path is not None:
            caller = calls[position + 1][2] if position + 1 < len(calls) else "{main}"
            frames.append(Frame(call_path, call_line, caller))
    return frames


def _function(text: str) -> str:
    name = text.strip()
    for separator in ("->", "::"):
        if separator in name:
            qualifier, _, method = name.rpartition(separator)
            return short_function(qualifier.rsplit("\\", 1)[-1], method)
    return name.rsplit("\\", 1)[-1]
