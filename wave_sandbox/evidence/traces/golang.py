"""Go panics, their goroutine dumps, and `runtime/debug.Stack()` output.

    panic: runtime error: integer divide by zero

    goroutine 1 [running]:
    github.com/shop/orders/internal/cart.(*Cart).Total(...)
            /src/orders/internal/cart/cart.go:12 +0x1d
    main.main()
            /src/orders/main.go:8 +0x12

Only the first goroutine is read: it is the one that panicked (or called debug.Stack); the rest of a
full dump are bystanders. Built with -trimpath, files are module paths
(`github.com/shop/orders/internal/cart/cart.go`), which the longest-suffix rule maps as well.
"""

from __future__ import annotations

import re

from wave_sandbox.evidence.traces.common import ExceptionBlock, build, short_function
from wave_sandbox.evidence.tracebacks import Frame, ParsedTraceback

__all__ = ["CONTINUES", "QUICK", "STARTS", "parse"]

QUICK = re.compile(r"^goroutine \d+ \[", re.MULTILINE)
PANIC = re.compile(
    r"(?:^|\s)(?P<kind>panic|fatal error): (?P<message>.*?)(?: \[recovered\])?\s*$|(?:^|\s)http: panic serving \S+: (?P<served>.*)$"
)
GOROUTINE = re.compile(r"^goroutine \d+ \[[^\]]*\]:\s*$")
FUNCTION = re.compile(r"^(?:created by )?(?P<function>[\w.\-/~%]+?(?:\.\(\*?[\w\[\],. ]+\))?(?:\.[\w\-\[\],. ]+)+)(?:\(.*\))?(?: in goroutine \d+)?\s*$")
FILE = re.compile(r"^\s+(?P<path>\S+\.go):(?P<line>\d+)(?: \+0x[0-9a-fA-F]+)?\s*$")
STARTS = re.compile(r"^(?:panic: |fatal error: |http: panic serving |goroutine \d+ \[)")
CONTINUES = re.compile(
    r"^goroutine \d+ \[|^\s+\S+\.go:\d+|^(?:created by )?[\w.\-/~%]+\.(?:\(\*?\w+\)\.)?[\w.]+\(.*\)(?: in goroutine \d+)?$|^\[signal "
)
CLOSURE = re.compile(r"\.func\d+(?:\.\d+)*$|\.gowrap\d+$")


def parse(lines: list[str]) -> ParsedTraceback | None:
    kind, message, message_index = "", "", 0
    start = None
    for index, text in enumerate(lines):
        panic = PANIC.search(text.strip())
        if panic and start is None and not kind:
            kind = panic["kind"] or "panic"
            message = (panic["message"] if panic["kind"] else panic["served"]) or ""
            message_index = index
        if GOROUTINE.match(text.strip()):
            start = index
            break
    if start is None:
        return None
    block = ExceptionBlock(kind, message.strip(), message_index, _frames(lines[start + 1:]))
    return build([block])


def _frames(lines: list[str]) -> list[Frame]:
    frames: list[Frame] = []
    function = None
    for text in lines:
        if not text.strip() or GOROUTINE.match(text.strip()):
            break
        where = FILE.match(text)
        if where and function is not None:
            frames.append(Frame(where["path"], int(where["line"]), function))
            function = None
            continue
        named = FUNCTION.match(text.strip())
        function = _short_name(named["function"]) if named else None
    return frames


def _short_name(qualified: str) -> str:
    """`Cart.Total` for `github.com/shop/orders/internal/cart.(*Cart).Total`, `handler` for `main.handler.func1`."""
    last = CLOSURE.sub("", qualified.rsplit("/", 1)[-1])
    parts = last.split(".", 1)
    rest = parts[1] if len(parts) > 1 else parts[0]
    receiver, _, method = rest.rpartition(".")
    return short_function(receiver, method)
