"""Entries of platform log exports, read into one shape: (time, level, message, stream).

    CloudWatch Logs   `aws logs filter-log-events`/`get-log-events` JSON ({"events": [...]}),
                      subscription (Firehose) lines ({"logEvents": [...]})
    Google Cloud      `gcloud logging read --format=json` (an array), exported LogEntry JSON lines
    Datadog           API/export JSON ({"data": [{"attributes": ...}]}), archive JSON lines, CSV export
    Loki              logcli's default output (`TIME {labels} line`) and `--output=jsonl`
    journald          `journalctl -o json`
    Docker            json-file lines ({"log", "stream", "time"})

Each reader returns None when the document is not its platform's.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from wave_sandbox.evidence.timestamps import TimeContext, parse_time_value

__all__ = ["Entry", "entries_from_csv", "entries_from_document", "entries_from_logcli", "entry_from_line"]

LOGCLI_LINE = re.compile(r"^(?P<time>\d{4}-\d\d-\d\dT\S+)\s+(?P<labels>\{[^}]*\})\s?(?P<line>.*)$")
JOURNALD_LEVELS = {0: "EMERGENCY", 1: "ALERT", 2: "CRITICAL", 3: "ERROR", 4: "WARNING", 5: "NOTICE", 6: "INFO", 7: "DEBUG"}
STACK_KEYS = ("stack_trace", "stack", "stacktrace", "exception", "error.stack", "err.stack", "exc_info", "traceback")


@dataclass
class Entry:
    time: float | None
    level: str | None
    message: str
    stream: str = ""


def _time(value: object, context: TimeContext) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    found = parse_time_value(str(value), context)
    return found[0] if found else None


def _nested(document: dict, dotted: str) -> object:
    value: object = document
    for key in dotted.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _with_stack(message: str, payload: dict) -> str:
    """The message, and a stack kept in a field of its own when the message does not hold it."""
    for key in STACK_KEYS:
        stack = _nested(payload, key)
        if isinstance(stack, str) and stack.strip() and stack.strip() not in message:
            return f"{message}\n{stack.rstrip()}" if message else stack.rstrip()
    return message


def _cloudwatch(document: dict, context: TimeContext) -> list[Entry] | None:
    events = document.get("events", document.get("logEvents"))
    if not isinstance(events, list) or not all(isinstance(event, dict) and "message" in event for event in events):
        return None
    stream = str(document.get("logStream", ""))
    return [Entry(_time(event.get("timestamp"), context), None, str(event["message"]).rstrip("\n"),
                  str(event.get("logStreamName", stream))) for event in events]  # fmt: skip


def _datadog(document: dict, context: TimeContext) -> list[Entry] | None:
    data = document.get("data")
    if not isinstance(data, list) or not all(isinstance(item, dict) and "attributes" in item for item in data):
        return None
    return [_datadog_entry(item["attributes"], context) for item in data]


def _datadog_entry(attributes: dict, context: TimeContext) -> Entry:
    inner = attributes.get("attributes") if isinstance(attributes.get("attributes"), dict) else {}
    message = _with_stack(str(attributes.get("message", "")), inner)
    when = attributes.get("timestamp", attributes.get("date"))
    return Entry(_time(when, context), str(attributes.get("status", "")) or None, message, str(attributes.get("service", "")))


def _google(entry: dict, context: TimeContext) -> Entry | None:
    if "textPayload" not in entry and "jsonPayload" not in entry:
        return None
    payload = entry.get("jsonPayload") if isinstance(entry.get("jsonPayload"), dict) else {}
    message = str(entry.get("textPayload") or payload.get("message") or payload.get("msg") or "")
    stream = str(_nested(entry, "resource.labels.pod_name") or entry.get("logName", ""))
    return Entry(_time(entry.get("timestamp"), context), entry.get("severity"), _with_stack(message, payload), stream)


def entry_from_line(document: dict, context: TimeContext) -> list[Entry] | None:
    """The entries of one JSON line of an export (None: not a platform's line)."""
    if "logEvents" in document:
        return _cloudwatch(document, context)
    google = _google(document, context)
    if google is not None:
        return [google]
    if "__REALTIME_TIMESTAMP" in document and "MESSAGE" in document:
        priority = str(document.get("PRIORITY", ""))
        level = JOURNALD_LEVELS.get(int(priority)) if priority.isdigit() else None
        stream = str(document.get("_SYSTEMD_UNIT", document.get("SYSLOG_IDENTIFIER", "")))
        message = document["MESSAGE"] if isinstance(document["MESSAGE"], str) else ""
        return [Entry(_time(document["__REALTIME_TIMESTAMP"], context), level, message.rstrip("\n"), stream)]
    if "log" in document and "stream" in document and "time" in document:
        return [Entry(_time(document["time"], context), None, str(document["log"]).rstrip("\n"), str(document["stream"]))]
    if "line" in document and isinstance(document.get("labels"), dict) and "timestamp" in document:
        stream = ",".join(f"{key}={value}" for key, value in sorted(document["labels"].items()))
        return [Entry(_time(document["timestamp"], context), None, str(document["line"]).rstrip("\n"), stream)]
    if isinstance(document.get("attributes"), dict) and "status" in document and "message" in document:
        return [_datadog_entry(document, context)]
    return None


def entries_from_document(document: object, context: TimeContext) -> list[Entry] | None:
    """The entries of a whole JSON document: CloudWatch, Datadog, or an array of Google entries."""
    if isinstance(document, dict):
        return _cloudwatch(document, context) or _datadog(document, context)
    if isinstance(document, list) and document and all(isinstance(item, dict) for item in document):
        entries = [_google(item, context) for item in document]
        return entries if all(entry is not None for entry in entries) else None
    return None


def entries_from_logcli(text: str, context: TimeContext) -> list[Entry] | None:
    entries = []
    for line in text.splitlines():
        match = LOGCLI_LINE.match(line)
        if match is None:
            if not line.strip():
                continue
            return None
        entries.append(Entry(_time(match["time"], context), None, match["line"], match["labels"]))
    return entries or None


def entries_from_csv(text: str, context: TimeContext) -> list[Entry] | None:
    """A Datadog Log Explorer CSV export: a header with Date (or timestamp) and Message columns."""
    rows = csv.DictReader(io.StringIO(text))
    fields = {name.lower(): name for name in rows.fieldnames or []}
    time_field = fields.get("date") or fields.get("timestamp")
    if not time_field or "message" not in fields:
        return None
    status, service = fields.get("status"), fields.get("service")
    return [
        Entry(_time(row[time_field], context), row.get(status) if status else None, row[fields["message"]] or "",
              row.get(service, "") if service else "")
        for row in rows
    ]  # fmt: skip
