"""Timestamps as real services write them, read into UTC epoch seconds.

Each format is a regular expression anchored at the start of a line (bytes, since logs are scanned
in blocks of bytes) and a converter. Formats without a year (syslog, klog) take it from a reference
time, the log file's modification time: the year that does not put the line in that file's future.
Formats without a zone are read as UTC and counted, so the report can say so.

    iso      2026-02-04T14:30:05.640Z, 2026-02-04 14:30:05,123, [2026-02-04 14:17:09 +0000],
             2026/02/04 14:30:05, 2026-02-04T14:30:05.123456789+02:00, <34>1 2026-02-04T14:30:05Z (RFC 5424)
    syslog   Feb  4 14:30:05 host app[1]: (RFC 3164, journalctl's short and short-precise)
    ctime    [Wed Feb 04 14:30:05.123456 2026] (Apache error log), Wed Feb  4 14:30:05 2026
    access   10.0.0.1 - - [04/Feb/2026:14:30:05 +0000] "GET / HTTP/1.1" 200 (common/combined log format)
    logfmt   level=error ts=2026-02-04T14:30:05Z msg="..."
    json     {"time": "...", ...} or {"__REALTIME_TIMESTAMP": "1770215405640123", ...} (journalctl -o json)
    klog     E0204 14:30:05.123456   12 file.go:42] (Kubernetes, glog)
    epoch    1770215405.640123 host app[1]: (journalctl -o short-unix)
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Callable

__all__ = [
    "LINE_FORMATS",
    "LineFormat",
    "LineTime",
    "TimeContext",
    "detect_line_format",
    "format_utc",
    "parse_line_time",
    "parse_time_value",
]

MONTHS = {name: number for number, name in enumerate(
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"], start=1
)}
MONTH_NAMES = rb"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
UNIX_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# A line dated more than this after its file was last written belongs to the year before.
FUTURE_TOLERANCE_S = 2 * 86400
# Epoch numbers between 2001 and 2286, in seconds; larger ones are milli-, micro- or nanoseconds.
EPOCH_SECONDS_MIN, EPOCH_SECONDS_MAX = 1e9, 1e10
ZONE_NAMES = {b"Z": 0, b"UTC": 0, b"GMT": 0, b"z": 0}
DETECTION_SAMPLE_LINES = 200


@dataclass
class TimeContext:
    """What a year-less timestamp needs: the time the log file was last written (epoch seconds)."""

    reference_epoch: float
    day_cache: dict = None  # (year, month, day) -> epoch of midnight UTC

    def __post_init__(self) -> None:
        self.day_cache = {}

    def midnight(self, year: int, month: int, day: int) -> float:
        key = (year, month, day)
        cached = self.day_cache.get(key)
        if cached is None:
            cached = (date(year, month, day).toordinal() - UNIX_EPOCH_ORDINAL) * 86400.0
            self.day_cache[key] = cached
        return cached

    def year_for(self, month: int, day: int, seconds_of_day: float) -> int:
        """The reference's year, or the one before when that would put the line in the file's future."""
        year = time.gmtime(self.reference_epoch).tm_year
        if self.midnight(year, month, day) + seconds_of_day > self.reference_epoch + FUTURE_TOLERANCE_S:
            return year - 1
        return year


@dataclass(frozen=True)
class LineTime:
    """A parsed line time: UTC epoch seconds, whether the line named its zone, and where the time ends."""

    epoch: float
    zoned: bool
    end: int
    format_name: str = ""


@dataclass(frozen=True)
class LineFormat:
    """One timestamp format: a regex matched at the start of a line, and a converter of its match."""

    name: str
    pattern: re.Pattern
    convert: Callable[[re.Match, TimeContext], tuple[float, bool] | None]
    quick_prefix: bytes | None = None
    """A cheaper, looser regex for the start of such a line, to sort lines in bulk (None: the pattern)."""

    @property
    def line_start(self) -> bytes:
        return self.quick_prefix or self.pattern.pattern


def _fraction(digits: bytes | None) -> float:
    return int(digits) / 10 ** len(digits) if digits else 0.0


def _offset_seconds(zone: bytes | None) -> int | None:
    """Seconds east of UTC for Z/UTC/GMT/+hh:mm/+hhmm/+hh; None when the text names no zone."""
    if not zone:
        return None
    if zone in ZONE_NAMES:
        return 0
    sign = -1 if zone[:1] == b"-" else 1
    digits = zone[1:].replace(b":", b"")
    hours, minutes = int(digits[:2]), int(digits[2:4] or b"0")
    return sign * (hours * 3600 + minutes * 60)


def _clock(hour: bytes, minute: bytes, second: bytes, fraction: bytes | None) -> float:
    return int(hour) * 3600 + int(minute) * 60 + int(second) + _fraction(fraction)


def _valid_date(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31 and 1970 <= year <= 2200


def _convert_dated(context: TimeContext, year: int, month: int, day: int, clock: float, zone: bytes | None):
    if not _valid_date(year, month, day):
        return None
    try:
        midnight = context.midnight(year, month, day)
    except ValueError:  # 31 February
        return None
    offset = _offset_seconds(zone)
    return midnight + clock - (offset or 0), offset is not None


def _convert_yearless(context: TimeContext, month: int, day: int, clock: float):
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return _convert_dated(context, context.year_for(month, day, clock), month, day, clock, None)


def _iso(match: re.Match, context: TimeContext):
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    return _convert_dated(
        context, int(year), int(month), int(day), _clock(hour, minute, second, fraction), zone
    )


def _syslog(match: re.Match, context: TimeContext):
    month, day, hour, minute, second, fraction = match.groups()
    return _convert_yearless(context, MONTHS[month], int(day), _clock(hour, minute, second, fraction))


def _ctime(match: re.Match, context: TimeContext):
    month, day, hour, minute, second, fraction, year = match.groups()
    return _convert_dated(
        context, int(year), MONTHS[month], int(day), _clock(hour, minute, second, fraction), None
    )


def _access(match: re.Match, context: TimeContext):
    day, month, year, hour, minute, second, fraction, zone = match.groups()
    return _convert_dated(
        context, int(year), MONTHS[month], int(day), _clock(hour, minute, second, fraction), zone
    )


def _klog(match: re.Match, context: TimeContext):
    month, day, hour, minute, second, fraction = match.groups()
    return _convert_yearless(context, int(month), int(day), _clock(hour, minute, second, fraction))


def _epoch(match: re.Match, context: TimeContext):
    whole, fraction = match.groups()
    return int(whole) + _fraction(fraction), True


def _json(match: re.Match, context: TimeContext):
    return parse_time_value(match.group(1), context)


ISO_CORE = (
    rb"(\d{4})[-/](\d\d)[-/](\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?"
    rb" ?(Z|[+-]\d\d(?::?\d\d)?(?![\d:])|UTC|GMT)?"
)
TIME_KEYS = rb"time|timestamp|ts|@timestamp|datetime|date|asctime|eventTime|__REALTIME_TIMESTAMP|t"

LINE_FORMATS: tuple[LineFormat, ...] = (
    LineFormat(
        "iso",
        re.compile(rb"(?:<\d{1,3}>\d? ?)?\[?" + ISO_CORE),
        _iso,
        rb"(?:<\d|\[?\d{4}[-/]\d\d[-/]\d\d[T ]\d\d:)",
    ),
    LineFormat(
        "syslog",
        re.compile(rb"(?:<\d{1,3}>)?" + MONTH_NAMES + rb" {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?"),
        _syslog,
        rb"(?:<\d|[A-Z][a-z][a-z] [ \d]\d \d\d:)",
    ),
    LineFormat(
        "ctime",
        re.compile(
            rb"\[?(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) " + MONTH_NAMES
            + rb" {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? (\d{4})\]?"
        ),
        _ctime,
    ),
    LineFormat(
        "access",
        re.compile(
            rb"[^ \n]+ [^ \n]+ [^ \n]+ \[(\d\d)/" + MONTH_NAMES
            + rb"/(\d{4}):(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? ([+-]\d{4})\]"
        ),
        _access,
    ),
    LineFormat("logfmt", re.compile(rb"[^\n]*?\b(?:time|ts|t|timestamp)=\"?" + ISO_CORE), _iso),
    LineFormat(
        "json",
        re.compile(rb"[ \t]*\{[^\n]*?\"(?:" + TIME_KEYS + rb")\" ?: ?\"?([^\",}\n]+)"),
        _json,
    ),
    LineFormat("klog", re.compile(rb"[IWEF](\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{1,9})"), _klog, rb"[IWEF]\d{4} \d\d:"),
    LineFormat("epoch", re.compile(rb"(1\d{9})(?:\.(\d{1,9}))?(?= )"), _epoch),
)

ISO_VALUE = re.compile(ISO_CORE + rb"\s*$")
NUMBER_VALUE = re.compile(rb"\s*(\d{9,19})(?:\.(\d{1,9}))?\s*$")


def parse_time_value(value: bytes | str, context: TimeContext) -> tuple[float, bool] | None:
    """A time written as a value (JSON field, symptom date): ISO-8601, or epoch s/ms/us/ns."""
    if isinstance(value, str):
        value = value.encode("utf-8", "replace")
    value = value.strip()
    match = ISO_VALUE.match(value)
    if match:
        return _iso(match, context)
    match = NUMBER_VALUE.match(value)
    if not match:
        return None
    number = float(match.group(1)) + _fraction(match.group(2))
    while number >= EPOCH_SECONDS_MAX:  # milli-, micro-, nanoseconds
        number /= 1000.0
    return (number, True) if number >= EPOCH_SECONDS_MIN else None


def parse_line_time(
    line: bytes, context: TimeContext, preferred: LineFormat | None = None
) -> LineTime | None:
    """The time at the start of the line, trying the file's usual format first, then every other."""
    if preferred is not None:
        found = _try_format(preferred, line, context)
        if found is not None:
            return found
    for line_format in LINE_FORMATS:
        if line_format is not preferred:
            found = _try_format(line_format, line, context)
            if found is not None:
                return found
    return None


def _try_format(line_format: LineFormat, line: bytes, context: TimeContext) -> LineTime | None:
    match = line_format.pattern.match(line)
    if match is None:
        return None
    converted = line_format.convert(match, context)
    if converted is None:
        return None
    return LineTime(converted[0], converted[1], match.end(), line_format.name)


def detect_line_format(sample: bytes, context: TimeContext) -> LineFormat | None:
    """The format most of the sample's first lines start with (None when no line has a time)."""
    counts: dict[str, int] = {}
    lines = [line for line in sample.split(b"\n", DETECTION_SAMPLE_LINES)[:DETECTION_SAMPLE_LINES] if line.strip()]
    for line in lines:
        found = parse_line_time_format(line, context)
        if found is not None:
            counts[found.name] = counts.get(found.name, 0) + 1
    if not counts:
        return None
    best = max(counts, key=counts.get)
    return next(line_format for line_format in LINE_FORMATS if line_format.name == best)


def parse_line_time_format(line: bytes, context: TimeContext) -> LineFormat | None:
    for line_format in LINE_FORMATS:
        if _try_format(line_format, line, context) is not None:
            return line_format
    return None


def format_utc(epoch: float | None) -> str | None:
    """ISO-8601 UTC with milliseconds and Z, e.g. 2026-02-04T14:30:05.640Z."""
    if epoch is None:
        return None
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def format_utc_short(epoch: float | None) -> str:
    """2026-02-04 14:30:05 UTC, for the console."""
    if epoch is None:
        return "unknown"
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
