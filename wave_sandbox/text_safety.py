"""Text that comes out of a container is hostile: make it one printable line before anyone shows it."""

from __future__ import annotations

import re

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def one_printable_line(text: str, max_chars: int = 200, empty: str = "") -> str:
    """The first non-blank line, without control characters (no terminal escapes), capped in length."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    printable = CONTROL_CHARACTERS.sub("", first_line).strip()
    if len(printable) > max_chars:
        printable = printable[: max_chars - 3].rstrip() + "..."
    return printable or empty
