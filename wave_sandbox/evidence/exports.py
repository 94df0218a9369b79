"""Platform log exports turned into plain dated lines before the scan (export_entries.py reads them).

An export is read whole (up to MAX_EXPORT_BYTES), its entries put in time order (gcloud and logcli
write the newest first), and each written as `TIME LEVEL message`, a multi-line message's further
lines after it. A stack trace that the platform split into one entry per line (journald, Docker,
Loki, CloudWatch and Cloud Logging all do, for a process that prints it line by line) is joined
back: an entry that continues a trace (a frame, `Caused by:`, a goroutine, an indented line, the
exception line right after an error) is appended to the entry before it from the same stream.
"""

from __future__ import annotations

import json
import re

from wave_sandbox.evidence.export_entries import (
    Entry, entries_from_csv, entries_from_document, entries_from_logcli, entry_from_line,
)  # fmt: skip
from wave_sandbox.evidence.timestamps import TimeContext, format_utc
from wave_sandbox.evidence.traces import continues_trace, starts_trace
from wave_sandbox.evidence.traces.rust import STARTS as RUST_PANIC

__all__ = ["convert_export", "looks_like_export"]

MAX_EXPORT_BYTES = 512 * 1024 * 1024
SNIFF_BYTES = 64 * 1024
JOIN_WITHIN_S = 5.0
LOGCLI_START = re.compile(rb"^\d{4}-\d\d-\d\dT\S+\s+\{[^}\n]*\}")
CSV_HEADER = re.compile(rb"^\"?(?:Date|date|timestamp)\"?,.*\b[Mm]essage\b")
ERROR_WORDS = re.compile(r"(?i)\b(?:error|err|fatal|critical|crit|alert|emergency|emerg|panic|severe)\b")


def looks_like_export(head: bytes, context: TimeContext) -> bool:
    """A cheap test on the file's first bytes: a JSON document, JSON lines whose first line is a
    platform's entry, logcli's output or a CSV export (other JSON lines are read as they are)."""
    stripped = head.lstrip()
    if stripped[:1] == b"[" or bool(LOGCLI_START.match(stripped)) or bool(CSV_HEADER.match(stripped)):
        return True
    if stripped[:1] != b"{":
        return False
    first_line = stripped.split(b"\n", 1)[0]
    try:
        document = json.loads(first_line)
    except ValueError:
        return True  # a document written over several lines
    if not isinstance(document, dict):
        return False
    return entry_from_line(document, context) is not None or entries_from_document(document, context) is not None


def convert_export(data: bytes, context: TimeContext) -> tuple[str, bytes] | None:
    """(platform name, the export as dated lines), or None when it is no export known here."""
    text = data.decode("utf-8", "replace")
    found = _read_entries(text, context)
    if found is None:
        return None
    name, entries = found
    return name, _render(_join_split_traces(_in_time_order(entries)))


def _read_entries(text: str, context: TimeContext) -> tuple[str, list[Entry]] | None:
    stripped = text.lstrip()
    if stripped[:1] in ("[", "{"):
        try:
            entries = entries_from_document(json.loads(stripped), context)
            return ("json-document", entries) if entries else None
        except ValueError:
            return _json_lines(stripped, context)
    if LOGCLI_START.match(stripped.encode()[:SNIFF_BYTES]):
        entries = entries_from_logcli(stripped, context)
        return ("logcli", entries) if entries else None
    entries = entries_from_csv(stripped, context)
    return ("csv", entries) if entries else None


def _json_lines(text: str, context: TimeContext) -> tuple[str, list[Entry]] | None:
    entries: list[Entry] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            document = json.loads(line)
        except ValueError:
            return None
        found = entry_from_line(document, context) if isinstance(document, dict) else None
        if found is None:
            return None  # not a platform's export: the JSON-lines reader handles it as it is
        entries += found
    return ("json-lines", entries) if entries else None


def _in_time_order(entries: list[Entry]) -> list[Entry]:
    """Oldest first; an export written newest first is reversed before the (stable) sort, so that the
    lines of one trace, which share a time, keep their order."""
    timed = [entry.time for entry in entries if entry.time is not None]
    if len(timed) > 1 and timed[0] > timed[-1]:
        entries = list(reversed(entries))
    latest = 0.0
    keyed = []
    for entry in entries:
        latest = entry.time if entry.time is not None else latest
        keyed.append((latest, entry))
    return [entry for _, entry in sorted(keyed, key=lambda pair: pair[0])]


def _join_split_traces(entries: list[Entry]) -> list[Entry]:
    joined: list[Entry] = []
    open_by_stream: dict[str, Entry] = {}
    for entry in entries:
        previous = open_by_stream.get(entry.stream)
        if previous is not None and _continues(previous, entry):
            previous.message += "\n" + entry.message
            continue
        copy = Entry(entry.time, entry.level, entry.message, entry.stream)
        joined.append(copy)
        open_by_stream[entry.stream] = copy
    return joined


def _continues(previous: Entry, entry: Entry) -> bool:
    if previous.time is not None and entry.time is not None and abs(entry.time - previous.time) > JOIN_WITHIN_S:
        return False
    text = entry.message
    last_line = previous.message.rsplit("\n", 1)[-1].strip()
    in_trace = "\n" in previous.message or starts_trace(previous.message.split("\n", 1)[0].strip())
    if RUST_PANIC.match(last_line) and last_line.endswith(":"):
        return True  # a Rust panic's message line
    if not text.strip():
        return in_trace
    if continues_trace(text) or (in_trace and text[:1] in (" ", "\t")):
        return True
    erring = (previous.level or "").lower() in ("error", "err", "critical", "alert", "emergency", "fatal") or bool(
        ERROR_WORDS.search(previous.message[:200])
    )
    return starts_trace(text.strip()) and erring and "\n" not in previous.message


def _render(entries: list[Entry]) -> bytes:
    lines = []
    for entry in entries:
        stamp = format_utc(entry.time) if entry.time is not None else "-"
        level = f" {entry.level.upper()}" if entry.level else ""
        first, _, rest = entry.message.partition("\n")
        lines.append(f"{stamp}{level} {first}")
        if rest:
            lines += [line if line.strip() else " " for line in rest.split("\n")]
    return ("\n".join(lines) + "\n").encode()
