"""One log record: a line, the lines that continue it (a traceback), and whether it is an error.

Lines arrive as bytes inside a block (see logs.py). A record is its first line plus every following
line that continues it: indented lines, a traceback and its exception line, chained tracebacks, the
lines of another language's stack trace (traces/: `Caused by:`, goroutine dumps, `#0 ...`), and, in
files where every line carries a time (syslog with a `host tag[pid]:` prefix, `kubectl logs
--timestamps`), the same shapes after that prefix. JSON lines are records of their own; only candidate lines are decoded with `json`.
"""

from __future__ import annotations

import re

from wave_sandbox.evidence.json_records import classify_json_record
from wave_sandbox.evidence.record_types import ERROR_LEVELS, AssembledRecord, ErrorRecord
from wave_sandbox.evidence.timestamps import LineFormat, TimeContext, parse_line_time
from wave_sandbox.evidence.traces import continues_trace, parse_any_traceback, starts_trace
from wave_sandbox.evidence.traces.rust import STARTS as RUST_PANIC
from wave_sandbox.evidence.tracebacks import CHAIN_LINES, looks_like_exception_line

__all__ = ["AssembledRecord", "ErrorRecord", "assemble_record", "classify_record", "plainly_not_an_error", "split_line"]

MAX_RECORD_LINES = 400
MAX_MESSAGE_CONTINUATION_LINES = 30
MAX_HEADER_CHARS = 300
NON_ERROR_LEVELS = {"trace", "debug", "info", "notice", "warn", "warning", "i", "w", "d"}
LEVEL_WORD = re.compile(
    r"(?i)(?:^|[\s\[<|(:=\"])(TRACE|DEBUG|INFO|NOTICE|WARN(?:ING)?|ERR(?:OR)?|CRIT(?:ICAL)?|FATAL|ALERT|EMERG|PANIC|SEVERE)"
    r"(?=$|[\s\]>|):,\"])"
)
LEVEL_SEARCH_CHARS = 48
LEADING_LEVEL = re.compile(r"^(?:ERROR|ERR|FATAL|CRITICAL|PANIC|SEVERE|ALERT|EMERGENCY|WARN(?:ING)?|INFO|DEBUG)\b:?\s*")
# A container runtime's (CRI) stream and partial-line tag after the time: `stderr F `.
CRI_STREAM = re.compile(rb"^(?:stdout|stderr) [FP] ")
# Where a line's level is looked for in the quick check: after its time, whatever the format.
LEVEL_HEAD_BYTES = 96
_LEVEL_NAMES = (b"TRACE", b"DEBUG", b"INFO", b"NOTICE", b"WARNING", b"WARN", b"ERROR", b"ERR", b"CRITICAL", b"CRIT",
                b"FATAL", b"ALERT", b"EMERG", b"PANIC", b"SEVERE")
# The same words as LEVEL_WORD, as bytes and spelled out in three cases (faster than IGNORECASE).
QUICK_LEVEL_WORD = re.compile(
    rb"[\s\[<|(:=\"](" + b"|".join(form for name in _LEVEL_NAMES for form in (name, name.lower(), name.capitalize()))
    + rb")[\s\]>|):,\"]"
)
QUICK_NON_ERROR_LEVELS = {level.encode() for level in NON_ERROR_LEVELS}
JSON_STATUS_5XX = re.compile(rb'status(?:_?code)?" ?: ?"?5\d\d\b', re.IGNORECASE)
HOST_AND_TAG = re.compile(rb"^ ?[^ \n]+ [^ \n:\[]+(?:\[\d+\])?: ?")
HOST_AND_PID_TAG = re.compile(rb"^ ?[^ \n]+ [^ \n:\[]+\[\d+\]: ?")
ACCESS_REQUEST = re.compile(r"\"(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) ([^ \"]+) HTTP/[\d.]+\" (\d{3})\b")
EXCEPTION_WORD = re.compile(r"\b[A-Z]\w*(?:Error|Exception)\b")
LEADING_ERROR_WORD = re.compile(r"(?i)^\W*(error|fatal|panic|critical|exception)\b")


def split_line(line: bytes, line_format: LineFormat | None, context: TimeContext):
    """(LineTime or None, the message after the time and any `host tag[pid]:` prefix)."""
    found = parse_line_time(line, context, line_format) if line[:1] not in (b" ", b"\t") else None
    if found is None or found.format_name == "json":
        return found, line
    rest = line[found.end:]
    if rest[:2] in (b"] ", b" ]"):
        rest = rest.lstrip(b" ]")
    cri = CRI_STREAM.match(rest[1:]) if rest[:1] == b" " else None
    if cri:
        return found, rest[1 + cri.end():]
    every_line_tagged = line_format is not None and line_format.name in ("syslog", "epoch")
    prefix_pattern = HOST_AND_TAG if every_line_tagged else HOST_AND_PID_TAG
    prefix = prefix_pattern.match(rest)
    if prefix and not LEVEL_WORD.match(rest[: prefix.end()].decode("utf-8", "replace").strip()):
        return found, rest[prefix.end():]
    # One separator after the time; more would be indentation (a continuation line).
    return found, rest[1:] if rest[:1] in (b" ", b"\t") else rest


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").rstrip("\r")


def assemble_record(
    block: bytes, start: int, line_format: LineFormat | None, context: TimeContext
) -> AssembledRecord:
    """The record starting at `start`: its first line and every line continuing it."""
    end = _line_end(block, start)
    found, header_message = split_line(block[start:end], line_format, context)
    messages = [_decode(header_message)]
    state = _first_state(messages[0].strip())
    position, continuation_lines = end + 1, 0
    while position < len(block) and len(messages) < MAX_RECORD_LINES:
        line_end = _line_end(block, position)
        line_time, message = split_line(block[position:line_end], line_format, context)
        text = _decode(message)
        previous_state = state
        state = _next_state(state, text, line_time is not None, line_format is not None)
        if state == "blank":
            state = _after_blank(previous_state, block, line_end, line_format, context)
        if state == "stop":
            break
        continuation_lines = continuation_lines + 1 if state == "message" else 0
        if continuation_lines > MAX_MESSAGE_CONTINUATION_LINES:
            break
        messages.append(text)
        end, position = line_end, line_end + 1
    return AssembledRecord(
        start=start,
        end=min(end + 1, len(block)),
        messages=messages,
        header=_decode(block[start:_line_end(block, start)])[:MAX_HEADER_CHARS],
        time=found.epoch if found else None,
        zoned=found.zoned if found else False,
        reached_block_end=end + 1 >= len(block),
    )


def _line_end(block: bytes, position: int) -> int:
    end = block.find(b"\n", position)
    return len(block) if end == -1 else end


def _first_state(first: str) -> str:
    if first.startswith("Traceback (most recent call last)"):
        return "frames"
    first = LEADING_LEVEL.sub("", first)
    if starts_trace(first):
        return "panic-message" if RUST_PANIC.match(first) and first.endswith(":") else "foreign"
    return "header"


def _next_state(state: str, text: str, timed: bool, file_has_times: bool) -> str:
    """The traceback reader's next state after `text`: "stop" when the line starts a new record,
    "blank" for an empty line inside a traceback (a chain may follow). "foreign" is inside another
    language's stack trace; "panic-message" expects the message line of a Rust panic."""
    stripped = text.strip()
    if not stripped:
        return "blank" if state in ("exception", "message", "chain", "foreign") else "stop"
    if stripped.startswith("Traceback (most recent call last)"):
        return "frames"
    if stripped.startswith(CHAIN_LINES):
        return "chain"
    if state == "panic-message":
        return "foreign"
    if state != "frames" and continues_trace(text):
        return "foreign"
    if state != "foreign" and state != "frames" and starts_trace(stripped):
        return _first_state(stripped)
    if text[:1] in (" ", "\t", "|", "+"):
        return state if state != "message" else "exception"
    if state == "frames" and looks_like_exception_line(stripped):
        return "exception"
    if state in ("exception", "message") and not timed and file_has_times:
        return "message"
    return "stop"


def _after_blank(state: str, block: bytes, line_end: int, line_format: LineFormat | None, context: TimeContext) -> str:
    """After a blank line: does the next non-blank line say this trace continues? A Python chain; in
    another language's trace, a goroutine, a frame, or an indented line (Ruby's code excerpt)."""
    position = line_end + 1
    while position < len(block):
        next_end = _line_end(block, position)
        _, message = split_line(block[position:next_end], line_format, context)
        raw = _decode(message)
        text = raw.strip()
        if text:
            if text.startswith(CHAIN_LINES) or text.startswith("Traceback (most recent call last)"):
                return "chain"
            if state == "foreign" and (continues_trace(raw) or raw[:1] in (" ", "\t")):
                return "foreign"
            return "stop"
        position = next_end + 1
    return "stop"


def plainly_not_an_error(line: bytes, next_line_start: bytes) -> bool:
    """A quick look before assembling a record: a single line at a level below error, with no
    traceback and no 5xx status ("INFO ... errors=0"). Keeps lines that merely say "error" cheap."""
    if next_line_start[:1] in (b" ", b"\t", b"T", b"|", b"+") or b"Traceback" in line or b'" 5' in line:
        return False
    match = QUICK_LEVEL_WORD.search(line, 0, LEVEL_HEAD_BYTES)
    return bool(match) and match.group(1).lower() in QUICK_NON_ERROR_LEVELS and not JSON_STATUS_5XX.search(line)


def classify_record(
    assembled: AssembledRecord, source: str, line_no: int, context: TimeContext
) -> ErrorRecord | None:
    """An ErrorRecord when the record is an error (by level, traceback or HTTP 5xx), else None."""
    first = assembled.messages[0]
    if first.lstrip().startswith("{"):
        return classify_json_record(assembled, source, line_no, context)
    traceback = parse_any_traceback(assembled.messages)
    http = _access_request(assembled.header)
    level = _level_of(first)
    is_error = (http is not None and http[2] >= 500) or (
        level in ERROR_LEVELS if level else (traceback is not None or _reads_as_error(first))
    )
    if not is_error:
        return None
    return ErrorRecord(
        source=source,
        line_no=line_no,
        time=assembled.time,
        header=assembled.header,
        message=_strip_level(first, level),
        traceback=traceback,
        exception_line=(line_no + traceback.exception_line_index, assembled.messages[traceback.exception_line_index].strip())
        if traceback
        else None,
        http=http if http and http[2] >= 500 else None,
    )


def _level_of(message: str) -> str | None:
    match = LEVEL_WORD.search(message[:LEVEL_SEARCH_CHARS])
    return match.group(1).lower() if match else None


def _strip_level(message: str, level: str | None) -> str:
    if level is None:
        return message.strip()
    match = LEVEL_WORD.search(message[:LEVEL_SEARCH_CHARS])
    return message[match.end():].lstrip(" ]:|>\"").strip() if match else message.strip()


def _reads_as_error(message: str) -> bool:
    return bool(EXCEPTION_WORD.search(message) and ":" in message) or bool(LEADING_ERROR_WORD.match(message))


def _access_request(header: str) -> tuple[str, str, int] | None:
    match = ACCESS_REQUEST.search(header)
    return (match.group(1), match.group(2), int(match.group(3))) if match else None
