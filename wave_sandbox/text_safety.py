"""One sanitizer between hostile text and a terminal, a commit message or a JSON line.

Text that came from an agent, a model, a repository or a pipeline may hold what a terminal acts on
or hides: C0 and C1 control characters (ESC starts CSI cursor moves and line erases, OSC title
changes and OSC 52 clipboard writes; a lone CR overwrites the line), bidi controls that reorder what
is shown, and zero-width or invisible characters that hide text. Each of them is shown as a visible
escape (``\\x1b``, ``\\u202e``) instead, so nothing reaches the terminal that it would act on and the
reader still sees that it was there. Newline and tab are kept by ``printable_text`` only.
"""

from __future__ import annotations

import re

# C0 (but tab and newline, handled per variant) and DEL and C1; lone surrogates (a stream cannot
# encode them); the Unicode format characters: soft hyphen, Arabic letter mark, Mongolian vowel
# separator, zero-width space/joiners, LRM/RLM, bidi embeddings and overrides, line and paragraph
# separators, word joiner and invisible operators, bidi isolates, deprecated format controls, BOM,
# interlinear annotations, tags (invisible ASCII); Hangul fillers and supplementary variation
# selectors, which render as nothing.
_UNSAFE_CLASS = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0e\ufeff\uffa0\ufff9-\ufffb"
    "\ud800-\udfff\U0001d173-\U0001d17a\U000e0000-\U000e007f\U000e0100-\U000e01ef"
)
UNSAFE_IN_TEXT = re.compile(f"[{_UNSAFE_CLASS}]")
UNSAFE_IN_LINE = re.compile(f"[{_UNSAFE_CLASS}\t\n]")
# Kept for callers that only need to know whether a name holds a C0 or C1 control character.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def visible_escape(character: str) -> str:
    """``\\x1b`` below U+0100, ``\\u202e`` in the BMP, ``\\U000e0041`` above."""
    code = ord(character)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _escape_match(match: re.Match) -> str:
    return visible_escape(match.group())


def printable_text(text: str) -> str:
    """Several lines as they may be shown: newline and tab kept (CRLF read as a newline), every other
    control, escape, bidi and invisible character shown as a visible escape."""
    return UNSAFE_IN_TEXT.sub(_escape_match, text.replace("\r\n", "\n"))


def printable_inline(text: str) -> str:
    """A value shown inside one line: everything `printable_text` escapes, and newline and tab too,
    so the value can neither start a line of its own nor be cut."""
    return UNSAFE_IN_LINE.sub(_escape_match, text)


def one_printable_line(text: str, max_chars: int = 200, empty: str = "") -> str:
    """The first non-blank line, tabs as spaces, every control, escape, bidi and invisible character
    shown as a visible escape, capped in length (with "..." when cut). Only a newline ends a line: a
    lone carriage return (which would redraw the line on a terminal) is shown as ``\x0d``."""
    lines = text.replace("\r\n", "\n").split("\n")
    first_line = next((line for line in lines if line.strip()), "")
    printable = printable_inline(first_line.replace("\t", " ")).strip()
    if len(printable) > max_chars:
        printable = printable[: max_chars - 3].rstrip() + "..."
    return printable or empty


def json_printable(json_text: str) -> str:
    """JSON text (``ensure_ascii=False``) with every character `printable_text` would escape written
    as a JSON ``\\uXXXX`` escape: the same value once parsed, nothing a terminal acts on when shown.
    Outside strings JSON holds only ASCII punctuation, digits, letters and whitespace, none of them unsafe."""
    return UNSAFE_IN_TEXT.sub(_json_escape_match, json_text)


def _json_escape_match(match: re.Match) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
    return f"\\u{high:04x}\\u{low:04x}"
