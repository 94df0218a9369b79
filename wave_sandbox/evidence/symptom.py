"""Hints from the symptom line: times with their zones, endpoints, HTTP statuses.

"500 errors spiking on /api/orders endpoint since 14:30 UTC" gives 14:30 UTC, /api/orders and 500.
The hints steer, never override, what the logs say: a time picks between two bursts in the logs or
stands in for the onset when the logs show none. A time without a date takes the latest date on
which it falls within the logs (else the one before the reference time); a time without a zone is
read as UTC, and the report says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

__all__ = ["SymptomHints", "SymptomTime", "read_symptom", "resolve_symptom_time"]

FIXED_ZONES_MINUTES = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 60, "BST": 60, "IST": 330, "CET": 60, "CEST": 120,
    "MET": 60, "MEST": 120, "EET": 120, "EEST": 180, "MSK": 180, "PST": -480, "PDT": -420, "MST": -420,
    "MDT": -360, "CST": -360, "CDT": -300, "EST": -300, "EDT": -240, "AKST": -540, "AKDT": -480,
    "HST": -600, "JST": 540, "KST": 540, "SGT": 480, "HKT": 480, "AEST": 600, "AEDT": 660,
    "ACST": 570, "AWST": 480, "NZST": 720, "NZDT": 780, "BRT": -180, "ART": -180,
}  # fmt: skip
# Zones named without saying summer or winter time: (standard offset, daylight-saving rule).
GENERIC_ZONES = {"PT": (-480, "us"), "MT": (-420, "us"), "CT": (-360, "us"), "ET": (-300, "us"),
                 "CEST/CET": (60, "eu"), "UK": (0, "eu")}
MONTHS = {name: number for number, name in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
ZONE_TEXT = r"(?P<zone>UTC[+-]\d{1,2}(?::?\d\d)?|GMT[+-]\d{1,2}(?::?\d\d)?|[+-]\d\d:?\d\d|[A-Z]{1,5})"
CLOCK = re.compile(
    r"(?<![\d:.])(?P<hour>\d{1,2}):(?P<minute>\d\d)(?::(?P<second>\d\d))?(?:\.\d+)?"
    r"\s*(?P<ampm>[ap]\.?m\.?)?(?:\s*" + ZONE_TEXT + r")?(?![\d:])",
    re.IGNORECASE,
)
BARE_HOUR = re.compile(r"(?<![\d:])(?P<hour>\d{1,2})\s*(?P<ampm>[ap]\.?m\.?)(?:\s*" + ZONE_TEXT + r")?\b", re.IGNORECASE)
ISO_DATE = re.compile(r"\b(?P<year>\d{4})-(?P<month>\d\d)-(?P<day>\d\d)\b")
MONTH_TEXT = r"(?P<month>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
MONTH_DAY = re.compile(r"\b" + MONTH_TEXT + r"[a-z]*\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\b", re.IGNORECASE)
DAY_MONTH = re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + MONTH_TEXT + r"[a-z]*\b", re.IGNORECASE)
ENDPOINT = re.compile(
    r"(?:(?P<method>GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+)?(?:https?://[^/\s]+)?"
    r"(?P<path>/[A-Za-z0-9_\-.~%/{}:<>]*[A-Za-z0-9_}>])"
)
LATE_SYMPTOM_SLACK_S = 6 * 3600
DAYS_SEARCHED = 400
STATUS = re.compile(r"\b(?P<status>[45]\d\d)\b(?!\s*(?:ms\b|s\b|%|:\d))")


@dataclass(frozen=True)
class SymptomTime:
    """A clock time from the symptom, its zone's offset (None: no zone given) and date if any."""

    text: str
    seconds_of_day: int
    offset_minutes: int | None
    zone: str | None
    month_day: tuple[int, int] | None = None
    year: int | None = None


@dataclass
class SymptomHints:
    """What the symptom line says about when and where."""

    text: str
    times: list[SymptomTime] = field(default_factory=list)
    endpoints: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_symptom(text: str | None) -> SymptomHints:
    """Parse the symptom line; an empty hint set for no symptom."""
    hints = SymptomHints(text=text or "")
    if not text:
        return hints
    day = _date_in(text)
    for match in list(CLOCK.finditer(text)) + list(BARE_HOUR.finditer(text)):
        found = _symptom_time(match, day, hints)
        if found is not None:
            hints.times.append(found)
    hints.endpoints = list(dict.fromkeys(
        match["path"] for match in ENDPOINT.finditer(text) if re.search(r"[A-Za-z]", match["path"])
    ))
    hints.statuses = list(dict.fromkeys(int(match["status"]) for match in STATUS.finditer(text)))
    return hints


def _date_in(text: str) -> tuple[int | None, int, int] | None:
    """(year or None, month, day) of the first date in the text."""
    match = ISO_DATE.search(text)
    if match and 1 <= int(match["month"]) <= 12 and 1 <= int(match["day"]) <= 31:
        return int(match["year"]), int(match["month"]), int(match["day"])
    match = MONTH_DAY.search(text) or DAY_MONTH.search(text)
    if match and 1 <= int(match["day"]) <= 31:
        return None, MONTHS[match["month"][:3].lower()], int(match["day"])
    return None


def _symptom_time(match: re.Match, day: tuple[int | None, int, int] | None, hints: SymptomHints) -> SymptomTime | None:
    hour, minute = int(match["hour"]), int(match.groupdict().get("minute") or 0)
    second = int(match.groupdict().get("second") or 0)
    ampm = (match["ampm"] or "").lower().replace(".", "")
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    zone, offset = _zone(match["zone"], _approximate_date(day), hints)
    return SymptomTime(
        text=match.group(0).strip(),
        seconds_of_day=hour * 3600 + minute * 60 + second,
        offset_minutes=offset,
        zone=zone,
        month_day=(day[1], day[2]) if day else None,
        year=day[0] if day else None,
    )


def _approximate_date(day: tuple[int | None, int, int] | None) -> date:
    """The date for daylight-saving rules: the one given (this year when no year), else today."""
    today = datetime.now(timezone.utc).date()
    if day is None:
        return today
    try:
        return date(day[0] or today.year, day[1], day[2])
    except ValueError:
        return today


def _zone(text: str | None, day: date, hints: SymptomHints) -> tuple[str | None, int | None]:
    if not text:
        return None, None
    upper = text.upper()
    if upper in FIXED_ZONES_MINUTES:
        return upper, FIXED_ZONES_MINUTES[upper]
    if upper in GENERIC_ZONES:
        standard, rule = GENERIC_ZONES[upper]
        hints.notes.append(f"{upper} read as {'daylight' if _in_daylight_saving(day, rule) else 'standard'} time")
        return upper, standard + (60 if _in_daylight_saving(day, rule) else 0)
    numeric = re.match(r"^(?:UTC|GMT)?([+-])(\d{1,2}):?(\d\d)?$", upper)
    if numeric:
        sign = -1 if numeric.group(1) == "-" else 1
        return upper, sign * (int(numeric.group(2)) * 60 + int(numeric.group(3) or 0))
    return None, None  # a word such as "AM" or "ON": not a zone


def _in_daylight_saving(day: date, rule: str) -> bool:
    """US: second Sunday of March to first Sunday of November; EU: last Sundays of March and October."""
    if rule == "us":
        start, end = _nth_sunday(day.year, 3, 2), _nth_sunday(day.year, 11, 1)
    else:
        start, end = _last_sunday(day.year, 3), _last_sunday(day.year, 10)
    return start <= day < end


def _nth_sunday(year: int, month: int, nth: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (nth - 1))


def _last_sunday(year: int, month: int) -> date:
    following = date(year + (month == 12), month % 12 + 1, 1)
    last = following - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def resolve_symptom_time(
    hint: SymptomTime, span_start: float | None, span_end: float | None, reference: float
) -> float:
    """The hint as UTC epoch seconds. With a full date, that date. Otherwise the latest date (matching
    the month and day when given) that puts it within the logs; failing that, the latest date not
    more than six hours after the logs' end (or the reference time, when there are no logs)."""
    offset = (hint.offset_minutes or 0) * 60
    if hint.year is not None and hint.month_day is not None:
        try:
            return _epoch_of(date(hint.year, *hint.month_day), hint.seconds_of_day) - offset
        except ValueError:
            pass
    anchor = span_end if span_end is not None else reference
    candidates = [
        _epoch_of(day, hint.seconds_of_day) - offset
        for day in _days_back_from(anchor + LATE_SYMPTOM_SLACK_S, DAYS_SEARCHED)
        if hint.month_day is None or (day.month, day.day) == hint.month_day
    ]
    within_logs = [moment for moment in candidates if span_start is not None and span_start <= moment <= anchor]
    not_after = [moment for moment in candidates if moment <= anchor + LATE_SYMPTOM_SLACK_S]
    chosen = within_logs or not_after or candidates
    return max(chosen) if chosen else anchor


def _days_back_from(moment: float, count: int) -> list[date]:
    last = datetime.fromtimestamp(moment, tz=timezone.utc).date() + timedelta(days=1)
    return [last - timedelta(days=back) for back in range(count)]


def _epoch_of(day: date, seconds_of_day: int) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp() + seconds_of_day
