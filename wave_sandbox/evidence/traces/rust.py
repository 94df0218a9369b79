"""Rust panics and their backtraces (RUST_BACKTRACE=1).

    thread 'main' panicked at src/cart.rs:12:5:
    attempt to divide by zero
    stack backtrace:
       3: orders::cart::total
                 at ./src/cart.rs:12:5

Older compilers put the message first: `thread 'main' panicked at 'msg', src/cart.rs:12:5`. Without
a backtrace the panic's location is the only frame.
"""

from __future__ import annotations

import re

from wave_sandbox.evidence.traces.common import ExceptionBlock, build, short_function
from wave_sandbox.evidence.tracebacks import Frame, ParsedTraceback

__all__ = ["CONTINUES", "QUICK", "STARTS", "parse"]

QUICK = re.compile(r"panicked at ")
PANIC = re.compile(
    r"^thread '(?P<thread>[^']*)'(?: \(\d+\))? panicked at (?:'(?P<message>.*)', )?"
    r"(?P<path>[^\s:'][^:']*?\.rs):(?P<line>\d+):\d+:?\s*$"
)
FUNCTION = re.compile(r"^\s*\d+:\s+(?:0x[0-9a-f]+ - )?(?P<function>\S.*?)\s*$")
AT = re.compile(r"^\s+at (?P<path>.+?\.rs):(?P<line>\d+)(?::\d+)?\s*$")
STARTS = re.compile(r"^thread '[^']*'(?: \(\d+\))? panicked at ")
CONTINUES = re.compile(r"^stack backtrace:|^\s+\d+: |^\s+at .+\.rs:\d+|^note: (?:run with|Some details)")
HASH = re.compile(r"::h[0-9a-f]{16}$")
GENERIC = re.compile(r"<[^<>]*>")


def parse(lines: list[str]) -> ParsedTraceback | None:
    for index, text in enumerate(lines):
        panic = PANIC.match(text.strip())
        if panic:
            return _parse_from(lines, index, panic)
    return None


def _parse_from(lines: list[str], index: int, panic: re.Match) -> ParsedTraceback | None:
    message = panic["message"]
    if message is None:
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        message = following if not following.startswith(("stack backtrace:", "note:")) else ""
    frames = _backtrace(lines[index + 1:])
    if not frames:
        frames = [Frame(panic["path"], int(panic["line"]), "")]
    return build([ExceptionBlock("panic", message, index, frames)])


def _backtrace(lines: list[str]) -> list[Frame]:
    frames: list[Frame] = []
    function = ""
    for text in lines:
        named = FUNCTION.match(text)
        if named:
            function = _short_name(named["function"])
            continue
        where = AT.match(text)
        if where:
            frames.append(Frame(where["path"], int(where["line"]), function))
    return frames


def _short_name(qualified: str) -> str:
    """`Cart.total` for `orders::cart::Cart::total::{{closure}}` (hash and generics dropped)."""
    name = HASH.sub("", qualified).replace("::{{closure}}", "")
    while GENERIC.search(name):
        name = GENERIC.sub("", name)
    parts = [part for part in name.split("::") if part]
    if not parts:
        return ""
    method = parts[-1]
    qualifier = parts[-2] if len(parts) > 1 and parts[-2][:1].isupper() else ""
    return short_function(qualifier, method)
