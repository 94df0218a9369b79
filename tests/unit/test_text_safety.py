"""The one sanitizer: what a terminal would act on or hide becomes a visible escape."""

from __future__ import annotations

import json

import pytest

from wave_sandbox.text_safety import json_printable, one_printable_line, printable_inline, printable_text

HOSTILE = {
    "\x1b]52;c;aGk=\x07": "\\x1b]52;c;aGk=\\x07",  # OSC 52 clipboard write
    "\x1b]0;title\x1b\\": "\\x1b]0;title\\x1b\\",  # title change, ST-terminated
    "\x1b[2K": "\\x1b[2K",  # line erase
    "\x1b[1A\x1b[10;5H": "\\x1b[1A\\x1b[10;5H",  # cursor moves
    "\x9b2J\x9d0;t\x9c": "\\x9b2J\\x9d0;t\\x9c",  # C1 CSI, OSC, ST
    "a\rb": "a\\x0db",  # a lone carriage return redraws the line
    "\x07\x08\x7f\x00": "\\x07\\x08\\x7f\\x00",
    "\u202eevil\u202c": "\\u202eevil\\u202c",  # right-to-left override
    "\u2066\u2067\u2068\u2069": "\\u2066\\u2067\\u2068\\u2069",  # isolates
    "\u200e\u200f\u061c": "\\u200e\\u200f\\u061c",  # marks
    "a\u200bb\u200cc\u200dd": "a\\u200bb\\u200cc\\u200dd",  # zero-width
    "\ufeff\u2060\u00ad": "\\ufeff\\u2060\\xad",
    "\U000e0041\U000e0042": "\\U000e0041\\U000e0042",  # tags: invisible ASCII
    "\u2028\u2029": "\\u2028\\u2029",
    "\ud800": "\\ud800",  # a lone surrogate cannot even be encoded
}


@pytest.mark.parametrize("raw, shown", HOSTILE.items())
def test_each_hostile_sequence_is_shown_as_a_visible_escape(raw, shown):
    assert printable_text(raw) == shown
    assert printable_inline(raw) == shown
    if raw.strip():  # a line of only separators is blank to the one-line variant
        assert one_printable_line(raw) == shown


def test_ordinary_text_is_left_alone():
    text = "Fixed the handler: 500 → 200 ✓ (naïve café, 日本語, emoji 🎉)\n\tindented line"
    assert printable_text(text) == text


def test_the_multi_line_variant_keeps_newlines_and_tabs_and_reads_crlf_as_a_newline():
    assert printable_text("one\r\ntwo\n\tthree\r") == "one\ntwo\n\tthree\\x0d"


def test_the_inline_variant_escapes_newlines_and_tabs_so_a_value_cannot_start_a_line():
    assert printable_inline("ok\n[09:00:00] completed\tfake") == "ok\\x0a[09:00:00] completed\\x09fake"


def test_one_printable_line_takes_the_first_non_blank_line_and_caps_it():
    assert one_printable_line("\n  \n first\x1b[31m red \nsecond") == "first\\x1b[31m red"
    assert one_printable_line("a\tb") == "a b"
    assert one_printable_line("", empty="no summary") == "no summary"
    long = one_printable_line("\x1b" * 500, max_chars=50)
    assert len(long) == 50 and long.endswith("...")


def test_json_printable_keeps_the_value_and_escapes_what_a_terminal_would_act_on():
    value = {"message": "a\x1b]52;c;x\x07 \u202e \u200b \x9b \U000e0041 \ud800 ok é"}
    printed = json_printable(json.dumps(value, ensure_ascii=False))
    assert json.loads(printed) == value
    assert printed.isascii() is False  # é stays readable
    assert not any(char in printed for char in "\x1b\x07\u202e\u200b\x9b\U000e0041\ud800")
