""".NET exceptions as `Exception.ToString()` writes them (the documented format).

    System.InvalidOperationException: Checkout failed
     ---> System.DivideByZeroException: Attempted to divide by zero.
       at Shop.Orders.Cart.Total() in /src/Orders/Cart.cs:line 12
       --- End of inner exception stack trace ---
       at Shop.Orders.CheckoutService.Place(Order order) in /src/Orders/CheckoutService.cs:line 30

Inner exceptions (` ---> `) print their frames first; the innermost exception is the root cause.
Frames without `in FILE:line N` (framework code, no symbols) are kept out.
"""

from __future__ import annotations

import re

from wave_sandbox.evidence.traces.common import ExceptionBlock, build, short_function
from wave_sandbox.evidence.tracebacks import Frame, ParsedTraceback

__all__ = ["CONTINUES", "QUICK", "STARTS", "parse"]

QUICK = re.compile(r"^\s+at [\w.`<>$|\[\], ]+\(.*\)(?: in .+:line \d+)?\s*$", re.MULTILINE)
FRAME = re.compile(r"^\s+at (?P<function>[\w.`<>$|\[\], ]+?)\((?P<arguments>[^)]*)\)(?: in (?P<path>.+?):line (?P<line>\d+))?\s*$")
TYPE = r"(?P<type>(?:[A-Za-z_]\w*\.)+[A-Za-z_]\w*)"
EXCEPTION = re.compile(r"^(?:Unhandled [Ee]xception[.:] )?" + TYPE + r"(?:: (?P<message>.*?))?(?: ---> (?P<inner>.*))?\s*$")
INNER = re.compile(r"^\s*---> " + TYPE + r"(?:: (?P<message>.*?))?\s*$")
END_OF_INNER = "--- End of inner exception stack trace ---"
STARTS = re.compile(r"^Unhandled [Ee]xception[.:] |^(?:[A-Z]\w*\.)+\w*Exception(?::|$)")
CONTINUES = re.compile(r"^\s+at [\w.`<>$|\[\], ]+\(.*\)|^\s*---> |^\s*--- End of ")
GENERATED = re.compile(r"^<(?P<name>\w+)>[a-z]__\w*$")


def parse(lines: list[str]) -> ParsedTraceback | None:
    chain: list[ExceptionBlock] = []
    frame_blocks: list[list[Frame]] = [[]]
    for index, text in enumerate(lines):
        if not chain:
            _read_exception_line(text, index, chain)
            continue
        inner = INNER.match(text)
        if inner:
            chain.append(ExceptionBlock(inner["type"], (inner["message"] or "").strip(), index))
        elif text.strip() == END_OF_INNER:
            frame_blocks.append([])
        else:
            frame = FRAME.match(text)
            if frame and frame["path"]:
                frame_blocks[-1].append(_frame(frame))
            elif not frame and text.strip() and not text.strip().startswith("--- End of stack trace"):
                break
    # The first block of frames is the innermost exception's, the last the outermost's.
    for block, frames in zip(reversed(chain), frame_blocks):
        block.frames = frames
    return build(chain)


def _read_exception_line(text: str, index: int, chain: list[ExceptionBlock]) -> None:
    exception = EXCEPTION.match(text.strip())
    if not exception or not (exception["message"] is not None or exception["inner"] or "Exception" in exception["type"]):
        return
    chain.append(ExceptionBlock(exception["type"], (exception["message"] or "").strip(), index))
    inner_text = exception["inner"]
    while inner_text:  # .NET Framework writes the whole chain on one line
        inner = EXCEPTION.match(inner_text.strip())
        if not inner:
            break
        chain.append(ExceptionBlock(inner["type"], (inner["message"] or "").strip(), index))
        inner_text = inner["inner"]


def _frame(match: re.Match) -> Frame:
    parts = match["function"].split(".")
    method = parts[-1]
    qualifier_parts = parts[:-1]
    if method == "MoveNext" and qualifier_parts and GENERATED.match(qualifier_parts[-1]):
        method = GENERATED.match(qualifier_parts.pop())["name"]  # an async method's state machine
    generated = GENERATED.match(method)
    if generated:
        method = generated["name"]  # a lambda inside the method
    qualifier_parts = [part for part in qualifier_parts if not part.startswith("<>")]
    simple_class = qualifier_parts[-1].split("+")[0].split("`")[0] if qualifier_parts else ""
    return Frame(match["path"], int(match["line"]), short_function(simple_class, method))
