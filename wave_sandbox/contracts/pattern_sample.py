"""A short string matching a regular expression, for the mock model's JSON Schema `pattern` strings.

Walks the parsed expression (the standard library's own parser) and takes the least each part asks for:
the minimum repeat count, the first branch, the first character a class allows. Lookarounds and
backreferences are skipped; the caller checks the result and falls back when it does not match.
"""

from __future__ import annotations

import re
import string

import re._parser as sre_parse  # the standard library's own regex parser (Python 3.11+)
from re._constants import (
    ANY, BRANCH, CATEGORY, CATEGORY_DIGIT, CATEGORY_NOT_DIGIT, CATEGORY_NOT_SPACE, CATEGORY_NOT_WORD,
    CATEGORY_SPACE, CATEGORY_WORD, IN, LITERAL, MAX_REPEAT, MIN_REPEAT, NEGATE, NOT_LITERAL, RANGE, SUBPATTERN,
)

__all__ = ["sample_matching"]

MAX_REPEAT_USED = 20
MAX_SAMPLE_CHARACTERS = 10_000
"""Nested repeats multiply: past this the pattern gets no sample (the repository's schema chose it)."""
CANDIDATES = string.ascii_lowercase + string.digits + string.ascii_uppercase + "-_ ./"
CATEGORY_CHARACTERS = {
    CATEGORY_DIGIT: "0", CATEGORY_NOT_DIGIT: "a", CATEGORY_WORD: "a", CATEGORY_NOT_WORD: "-",
    CATEGORY_SPACE: " ", CATEGORY_NOT_SPACE: "a",
}


def sample_matching(pattern: str) -> str | None:
    """A string `re.search(pattern, ...)` accepts, or None when none was found."""
    try:
        sample = _walk(sre_parse.parse(pattern))
    except (re.error, RecursionError, ValueError, TypeError):
        return None
    try:
        return sample if re.search(pattern, sample) else None
    except re.error:
        return None


def _walk(items) -> str:
    sample = ""
    for op, value in items:
        sample += _item(op, value)
        if len(sample) > MAX_SAMPLE_CHARACTERS:
            raise ValueError("the sample would be too long")
    return sample


def _item(op, value) -> str:
    if op is LITERAL:
        return chr(value)
    if op is NOT_LITERAL:
        return "a" if chr(value) != "a" else "b"
    if op is ANY:
        return "a"
    if op is IN:
        return _in_class(value)
    if op in (MAX_REPEAT, MIN_REPEAT):
        low, _high, inner = value
        once = _walk(inner)
        if len(once) * min(low, MAX_REPEAT_USED) > MAX_SAMPLE_CHARACTERS:
            raise ValueError("the sample would be too long")
        return once * min(low, MAX_REPEAT_USED)
    if op is SUBPATTERN:
        return _walk(value[-1])
    if op is BRANCH:
        return _walk(value[1][0])
    if op is CATEGORY:
        return CATEGORY_CHARACTERS.get(value, "a")
    return ""  # AT (anchors), lookarounds, backreferences: nothing to write


def _in_class(items) -> str:
    negated = any(op is NEGATE for op, _ in items)
    allowed = [candidate for candidate in CANDIDATES if _class_has(items, candidate) != negated]
    return allowed[0] if allowed else "a"


def _class_has(items, character: str) -> bool:
    code = ord(character)
    for op, value in items:
        if op is LITERAL and value == code:
            return True
        if op is RANGE and value[0] <= code <= value[1]:
            return True
        if op is CATEGORY and re.fullmatch(_category_expression(value), character):
            return True
    return False


def _category_expression(category) -> str:
    return {CATEGORY_DIGIT: r"\d", CATEGORY_NOT_DIGIT: r"\D", CATEGORY_WORD: r"\w", CATEGORY_NOT_WORD: r"\W",
            CATEGORY_SPACE: r"\s", CATEGORY_NOT_SPACE: r"\S"}.get(category, r"(?!)")
