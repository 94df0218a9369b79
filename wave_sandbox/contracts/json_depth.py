"""Parse JSON that an agent or a repository wrote, refusing nesting deeper than a fixed depth first.

Python's `json` parser recurses once per level of nesting, and so do the schema checker and every
walk over the document afterwards: a 10,000-deep `[[[[...]]]]` artifact raised RecursionError, which
escaped as an internal error and lost the step's usage. The depth is measured by a linear scan of the
brackets outside strings, before anything recursive runs, and refused as a plain ValueError, so
every caller that already reports "not valid JSON" reports this too, as a contract error.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 64
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class JsonTooDeepError(ValueError):
    """The document nests deeper than MAX_JSON_DEPTH (a ValueError, like any other invalid JSON)."""


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether any bracket in `text` (outside strings) opens deeper than `limit` levels."""
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return True
        elif token in "]}":
            depth -= 1
    return False


def loads_bounded(text: str, limit: int = MAX_JSON_DEPTH) -> Any:
    """`json.loads`, but JsonTooDeepError when the text nests deeper than `limit`."""
    if json_depth_exceeds(text, limit):
        raise JsonTooDeepError(f"the JSON nests deeper than {limit} levels, the most wave-sandbox reads")
    return json.loads(text)
