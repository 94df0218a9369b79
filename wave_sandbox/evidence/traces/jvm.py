"""Java, Kotlin and Scala stack traces (`Throwable.printStackTrace`, logback, log4j).

    java.lang.IllegalStateException: checkout failed
        at com.shop.orders.CheckoutService.place(CheckoutService.java:41)
        ...
    Caused by: java.lang.ArithmeticException: / by zero
        at com.shop.orders.Cart.total(Cart.java:12)
        ... 3 more

A frame's file is its class's package as folders plus the file the frame names
(`com/shop/orders/Cart.java`), which the longest-suffix rule maps to `src/main/java/com/shop/...`.
The root cause (the last `Caused by:`) is the exception reported.
"""

from __future__ import annotations

import re

from wave_sandbox.evidence.traces.common import ExceptionBlock, build, short_function
from wave_sandbox.evidence.tracebacks import Frame, ParsedTraceback

__all__ = ["CONTINUES", "QUICK", "STARTS", "parse"]

QUICK = re.compile(r"^\s+at [\w$.]+\(", re.MULTILINE)
FRAME = re.compile(
    r"^\s*at\s+(?:[\w.\-]+(?:@[\w.\-]+)?/+)?(?P<class>[\w$]+(?:\.[\w$]+)*)\.(?P<method>[\w$<>\-]+)"
    r"\((?P<file>[^():]*)(?::(?P<line>\d+))?\)"
)
EXCEPTION = re.compile(
    r"^(?:Exception in thread \"[^\"]*\" )?(?P<cause>Caused by: )?"
    r"(?P<type>[a-zA-Z_$][\w$]*(?:\.[a-zA-Z_$][\w$]*)+)(?::\s?(?P<message>.*))?\s*$"
)
SUPPRESSED = re.compile(r"^\s*Suppressed: ")
MORE = re.compile(r"^\s*\.\.\. \d+ (?:more|common frames omitted)")
STARTS = re.compile(r"^(?:Exception in thread |Caused by: )|^(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error)\b")
CONTINUES = re.compile(r"^\s*at [\w$./@\-]+\(|^\s*\.\.\. \d+ (?:more|common frames)|^Caused by: |^\s*Suppressed: ")
LAMBDA = re.compile(r"^lambda\$(\w+?)\$\d+$")


def parse(lines: list[str]) -> ParsedTraceback | None:
    blocks: list[ExceptionBlock] = []
    suppressed = False
    for index, text in enumerate(lines):
        frame = FRAME.match(text)
        if frame:
            if blocks and not suppressed:
                blocks[-1].frames.append(_frame(frame))
            continue
        if SUPPRESSED.match(text):
            suppressed = True
            continue
        exception = EXCEPTION.match(text.strip())
        if exception and _frame_follows(lines, index) and (exception["cause"] or not blocks):
            blocks.append(ExceptionBlock(exception["type"], (exception["message"] or "").strip(), index))
            suppressed = False
    return build(blocks)


def _frame_follows(lines: list[str], index: int) -> bool:
    return index + 1 < len(lines) and bool(FRAME.match(lines[index + 1]) or MORE.match(lines[index + 1]))


def _frame(match: re.Match) -> Frame:
    parts = match["class"].split(".")
    package = [part for part in parts[:-1] if part[:1].islower()]
    simple_class = parts[len(package)] if len(parts) > len(package) else parts[-1]
    simple_class = simple_class.split("$")[0]
    file_name = match["file"] if "." in match["file"] else ""
    path = "/".join(package + [file_name]) if file_name else f"<{match['file'] or 'unknown'}>"
    method = match["method"]
    lambda_of = LAMBDA.match(method)
    if lambda_of:
        method = lambda_of.group(1)
    elif method in ("<init>", "<clinit>"):
        method = simple_class
    return Frame(path, int(match["line"] or 0), short_function(simple_class, method))
