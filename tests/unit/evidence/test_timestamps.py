"""Every timestamp format of the issue, read into UTC; lines without a time are found and said."""

import gzip

import pytest

from tests.fixtures.evidence.common import utc
from wave_sandbox.evidence.logs import scan_logs
from wave_sandbox.evidence.timestamps import TimeContext, detect_line_format, format_utc, parse_line_time

# The log file was last written on 2026-02-05 (what a year-less syslog line is read against).
CONTEXT = TimeContext(reference_epoch=utc("2026-02-05 00:00"))
EXPECTED = "2026-02-04T14:30:05.640Z"

LINES = [
    ("iso with Z", "2026-02-04T14:30:05.640Z ERROR app: x", EXPECTED, True),
    ("iso with offset", "2026-02-04T16:30:05.640+02:00 ERROR app: x", EXPECTED, True),
    ("iso with compact offset", "2026-02-04T07:30:05.640-0700 web app[1]: x", EXPECTED, True),
    ("iso nanoseconds", "2026-02-04T14:30:05.640123456Z ERROR app: x", EXPECTED, True),
    ("python logging default", "2026-02-04 14:30:05,640 ERROR [app] x", EXPECTED, False),
    ("gunicorn bracketed", "[2026-02-04 14:30:05 +0000] [12] [ERROR] x", "2026-02-04T14:30:05.000Z", True),
    ("nginx error log", "2026/02/04 14:30:05 [error] 12#0: x", "2026-02-04T14:30:05.000Z", False),
    ("rfc 5424 syslog", "<11>1 2026-02-04T14:30:05.640Z web app 12 - - x", EXPECTED, True),
    ("journalctl short-iso", "2026-02-04T14:30:05+0000 web app[12]: x", "2026-02-04T14:30:05.000Z", True),
    ("syslog without a year", "Feb  4 14:30:05 web app[12]: x", "2026-02-04T14:30:05.000Z", False),
    ("journalctl short-precise", "Feb 04 14:30:05.640123 web app[12]: x", EXPECTED, False),
    ("apache error log (ctime)", "[Wed Feb 04 14:30:05.640123 2026] [core:error] [pid 12] x", EXPECTED, False),
    ("common access log", '10.0.0.1 - - [04/Feb/2026:16:30:05 +0200] "GET /api/orders HTTP/1.1" 500 12', "2026-02-04T14:30:05.000Z", True),
    ("logfmt", 'level=error ts=2026-02-04T14:30:05.640Z msg="x"', EXPECTED, True),
    ("json iso", '{"time": "2026-02-04T14:30:05.640Z", "level": "error"}', EXPECTED, True),
    ("json epoch milliseconds", '{"ts": 1770215405640, "level": "error"}', EXPECTED, True),
    ("json epoch nanoseconds", '{"ts": 1770215405640000000, "level": "error"}', EXPECTED, True),
    ("journald json (microseconds)", '{"__REALTIME_TIMESTAMP": "1770215405640123", "PRIORITY": "3"}', EXPECTED, True),
    ("klog", "E0204 14:30:05.640123      12 server.go:42] x", EXPECTED, False),
    ("journalctl short-unix", "1770215405.640123 web app[12]: x", EXPECTED, True),
]


@pytest.mark.parametrize("name, line, expected, zoned", LINES, ids=[case[0] for case in LINES])
def test_every_format_is_read_into_utc(name, line, expected, zoned):
    found = parse_line_time(line.encode(), CONTEXT)
    assert found is not None, name
    assert format_utc(found.epoch) == expected
    assert found.zoned is zoned


def test_a_yearless_line_after_the_files_last_write_belongs_to_the_year_before():
    january_file = TimeContext(reference_epoch=utc("2026-01-03 00:00"))
    found = parse_line_time(b"Dec 31 23:59:58 web app[1]: x", january_file)
    assert format_utc(found.epoch) == "2025-12-31T23:59:58.000Z"


@pytest.mark.parametrize("line", ["  File \"/app/x.py\", line 3, in f", "Traceback (most recent call last):", "no time here", "2026-13-45 99:99:99 nonsense"])
def test_lines_without_a_time_are_not_given_one(line):
    assert parse_line_time(line.encode(), CONTEXT) is None


def test_the_files_usual_format_is_detected_from_its_first_lines():
    sample = b"2026-02-04 14:30:05,640 INFO [app] a\nTraceback (most recent call last):\n2026-02-04 14:30:06,000 INFO [app] b\n"
    assert detect_line_format(sample, CONTEXT).name == "iso"
    assert detect_line_format(b"Feb  4 14:30:05 web app[1]: a\nFeb  4 14:30:06 web app[1]: b\n", CONTEXT).name == "syslog"


def test_lines_without_a_parsable_time_are_counted_and_quoted(tmp_path):
    log = tmp_path / "app.log.gz"
    with gzip.open(log, "wt") as stream:
        stream.write(
            "2026-02-04T14:30:05.640Z INFO app: fine\n"
            "a stray line from a print()\n"
            "2026-02-04T14:30:06.000Z ERROR app: boom\n"
            "Traceback (most recent call last):\n"
            '  File "/app/x.py", line 3, in f\n'
            "ValueError: bad\n"
            "\n"
            "Feb  4 14:30:07 web app[1]: another format, still dated\n"
            "another stray line\n"
        )
    scan = scan_logs([str(tmp_path)], lambda record: None)
    summary = scan.files[0]
    assert summary.lines == 9
    assert summary.untimed_lines == 2
    assert summary.untimed_examples == [f"{log}:2: a stray line from a print()", f"{log}:9: another stray line"]
