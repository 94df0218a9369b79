"""JSON log lines as records: level, message, time, a stack trace in any field that holds one, an HTTP status."""

from __future__ import annotations

import json

from wave_sandbox.evidence.record_types import ERROR_LEVELS, AssembledRecord, ErrorRecord
from wave_sandbox.evidence.timestamps import TimeContext, parse_time_value
from wave_sandbox.evidence.traces import parse_any_traceback
from wave_sandbox.evidence.tracebacks import ParsedTraceback

__all__ = ["classify_json_record"]

JSON_LEVEL_KEYS = ("level", "levelname", "severity", "lvl", "log.level", "loglevel", "PRIORITY", "@l")
JSON_MESSAGE_KEYS = ("message", "msg", "MESSAGE", "event", "log", "@m", "@mt")
JSON_TRACE_KEYS = (
    "exc_info", "exception", "exc_text", "stack_trace", "stacktrace", "traceback", "stack", "error.stack",
    "err.stack", "error", "err", "@x",
)
JSON_TIME_KEYS = ("time", "timestamp", "ts", "@timestamp", "datetime", "date", "asctime", "eventTime",
                  "__REALTIME_TIMESTAMP", "t", "@t")
JSON_STATUS_KEYS = ("status", "status_code", "http.status_code", "http.status", "response.status", "statusCode")
JSON_METHOD_KEYS = ("method", "http.method", "request.method", "http_method")
JSON_PATH_KEYS = ("path", "url", "uri", "http.path", "http.url", "request.path", "request.url", "route")
# journald priorities 0 (emerg) to 3 (err) are errors.
JOURNALD_ERROR_PRIORITY = 3


def classify_json_record(
    assembled: AssembledRecord, source: str, line_no: int, context: TimeContext
) -> ErrorRecord | None:
    try:
        document = json.loads(assembled.messages[0])
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    fields = _flatten(document)
    message = _first_text(fields, JSON_MESSAGE_KEYS) or ""
    traceback = _json_traceback(fields, message)
    http = _json_http(fields)
    level = _json_level(fields)
    is_error = (http is not None and http[2] >= 500) or (
        level in ERROR_LEVELS if level else traceback is not None
    )
    if not is_error:
        return None
    time_value = _first_text(fields, JSON_TIME_KEYS)
    parsed_time = parse_time_value(time_value, context) if time_value else None
    return ErrorRecord(
        source=source,
        line_no=line_no,
        time=parsed_time[0] if parsed_time else assembled.time,
        header=assembled.header,
        message=message.splitlines()[0].strip() if message.strip() else "",
        traceback=traceback,
        exception_line=(line_no, f"{traceback.exception_type}: {traceback.message}".rstrip(": ")) if traceback else None,
        http=http if http and http[2] >= 500 else None,
    )


def _flatten(document: dict, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for key, value in document.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not prefix:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _first_text(fields: dict[str, object], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = fields.get(key)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    return None


def _json_level(fields: dict[str, object]) -> str | None:
    value = _first_text(fields, JSON_LEVEL_KEYS)
    if value is None:
        return None
    if value.strip().isdigit():  # journald PRIORITY, syslog severities
        return "error" if int(value) <= JOURNALD_ERROR_PRIORITY else "info"
    return value.strip().lower()


def _json_traceback(fields: dict[str, object], message: str) -> ParsedTraceback | None:
    for key in JSON_TRACE_KEYS:
        value = fields.get(key)
        if isinstance(value, list):
            value = "".join(str(part) for part in value)
        if isinstance(value, str) and "\n" in value.strip():
            parsed = parse_any_traceback(value.splitlines())
            if parsed is not None:
                return parsed
    return parse_any_traceback(message.splitlines()) if "\n" in message.strip() else None


def _json_http(fields: dict[str, object]) -> tuple[str, str, int] | None:
    status = _first_text(fields, JSON_STATUS_KEYS)
    if status is None or not status.isdigit() or not 100 <= int(status) <= 599:
        return None
    method = _first_text(fields, JSON_METHOD_KEYS) or "-"
    path = _first_text(fields, JSON_PATH_KEYS) or "-"
    return method.upper(), path, int(status)
