"""Read log files and folders (plain text, JSON lines, gzip) in blocks, and find their error records.

A 1 GB log must be read in seconds, so lines are not visited one by one in Python. Each block of a
few megabytes is searched, in C, for error markers (`error`, `traceback`, `fatal`, ...), for deploy
markers, and for lines that do not start with the file's usual timestamp format; only those lines are
looked at in Python. Every other line is a dated line that is not an error: it only counts.

Memory stays flat: a block, its lower-cased copy, and per signature an array of event times.
"""

from __future__ import annotations

import bisect
import gzip
import io
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from wave_sandbox.evidence.records import (
    ErrorRecord, assemble_record, classify_record, plainly_not_an_error, split_line,
)  # fmt: skip
from wave_sandbox.evidence.exports import MAX_EXPORT_BYTES, SNIFF_BYTES, convert_export, looks_like_export
from wave_sandbox.evidence.timestamps import LineFormat, TimeContext, detect_line_format, parse_line_time

__all__ = ["DeployMention", "LogFileSummary", "LogScan", "find_log_files", "scan_logs"]

BLOCK_BYTES = 8 * 1024 * 1024
LONGEST_RECORD_BYTES = 32 * 1024 * 1024
# Each marker costs one pass over the block in C; the JSON ones only in JSON files.
ERROR_MARKERS = (b"error", b"traceback", b"exception", b"fatal", b"critical", b"panic", b'" 5')
JSON_ERROR_MARKERS = (b'"priority"',)
# A 5xx status in a JSON access line; a regex that starts with a literal is searched as fast as find.
JSON_SERVER_ERROR = re.compile(rb'status(?:_?code)?" ?: ?"?5\d\d\b')
DEPLOY_MARKERS = (b"deploy", b"releas")
COMMIT_TOKEN = re.compile(rb"(?<![0-9a-fA-F])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,40}(?![0-9a-zA-Z])")
UNTIMED_EXAMPLES_KEPT = 5
DEPLOY_MENTIONS_KEPT = 2000
SKIPPED_NAMES = {".git", "__pycache__", "node_modules"}
BINARY_SNIFF_BYTES = 4096
GZIP_MAGIC = b"\x1f\x8b"

RecordSink = Callable[[ErrorRecord], None]


@dataclass
class DeployMention:
    """A hex token that may be a commit id, seen on a log line about a deploy or release."""

    token: str
    time: float | None
    source: str
    line_no: int
    text: str


@dataclass
class LogFileSummary:
    """What one file held: its lines, the ones without a time, its time span and format."""

    source: str
    format_name: str | None = None
    lines: int = 0
    untimed_lines: int = 0
    untimed_examples: list[str] = field(default_factory=list)
    zoneless_lines: int = 0
    """Lines in another format than the usual one whose time names no zone (read as UTC)."""
    usual_format_has_no_zone: bool = False
    """The file's usual timestamps name no zone; they are read as UTC."""
    first_time: float | None = None
    last_time: float | None = None
    error_records: int = 0
    export: str | None = None
    """The platform export the file was read as (exports.py), None for a plain log."""

    def see_time(self, epoch: float) -> None:
        if self.first_time is None or epoch < self.first_time:
            self.first_time = epoch
        if self.last_time is None or epoch > self.last_time:
            self.last_time = epoch


@dataclass
class LogScan:
    """Every file read, the ones skipped and why, and the deploy mentions found."""

    files: list[LogFileSummary] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    deploy_mentions: list[DeployMention] = field(default_factory=list)

    @property
    def span(self) -> tuple[float | None, float | None]:
        firsts = [summary.first_time for summary in self.files if summary.first_time is not None]
        lasts = [summary.last_time for summary in self.files if summary.last_time is not None]
        return (min(firsts) if firsts else None, max(lasts) if lasts else None)


def find_log_files(paths: list[str]) -> tuple[list[Path], list[str]]:
    """Files named or found (recursively) in the folders named; missing paths are skipped and said."""
    found: list[Path] = []
    skipped: list[str] = []
    for name in paths:
        path = Path(name)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found += _files_under(path)
        else:
            skipped.append(f"{name} (not found)")
    unique = list(dict.fromkeys(found))
    return unique, skipped


def _files_under(folder: Path) -> list[Path]:
    files = []
    for root, subfolders, names in os.walk(folder):
        subfolders[:] = sorted(name for name in subfolders if name not in SKIPPED_NAMES)
        files += [Path(root) / name for name in sorted(names) if not name.startswith(".")]
    return files


def scan_logs(paths: list[str], sink: RecordSink) -> LogScan:
    """Read every log file under `paths`, pass each error record to `sink`, summarise each file."""
    files, skipped = find_log_files(paths)
    scan = LogScan(skipped=skipped)
    for path in files:
        try:
            with _open_log(path) as stream:
                if stream is None:
                    scan.skipped.append(f"{path} (binary)")
                    continue
                context = TimeContext(reference_epoch=path.stat().st_mtime)
                export, stream = _as_export(stream, context)
                summary = FileScanner(str(path), context, sink, scan).scan(stream)
                summary.export = export
                scan.files.append(summary)
        except (OSError, EOFError, zlib.error) as exc:
            scan.skipped.append(f"{path} (unreadable: {exc})")
    return scan


def _as_export(stream, context: TimeContext):
    """(platform export's name, its dated lines as a stream) when the file is an export (exports.py);
    (None, the stream rewound) otherwise."""
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    if not looks_like_export(head, context):
        return None, stream
    data = stream.read(MAX_EXPORT_BYTES + 1)
    converted = convert_export(data, context) if len(data) <= MAX_EXPORT_BYTES else None
    if converted is None:
        stream.seek(0)
        return None, stream
    return converted[0], io.BytesIO(converted[1])


class _open_log:
    """Open a file as a binary stream, gunzipping when it is gzip; None when it looks binary."""

    def __init__(self, path: Path):
        self.path = path
        self.stream = None

    def __enter__(self):
        with open(self.path, "rb") as probe:
            head = probe.read(BINARY_SNIFF_BYTES)
        self.stream = gzip.open(self.path, "rb") if head.startswith(GZIP_MAGIC) else open(self.path, "rb")
        sniff = self.stream.peek(BINARY_SNIFF_BYTES)[:BINARY_SNIFF_BYTES] if hasattr(self.stream, "peek") else b""
        return None if b"\0" in sniff else self.stream

    def __exit__(self, *exc_info) -> None:
        if self.stream is not None:
            self.stream.close()


class FileScanner:
    """Scans one file block by block; see the module docstring."""

    def __init__(self, source: str, context: TimeContext, sink: RecordSink, scan: LogScan):
        self.summary = LogFileSummary(source=source)
        self.context = context
        self.sink = sink
        self.scan_result = scan
        self.line_format: LineFormat | None = None
        self.untimed_pattern: re.Pattern | None = None
        self.first_line_pattern: re.Pattern | None = None
        self.last_time: float | None = None

    def scan(self, stream) -> LogFileSummary:
        carry, first_line_no = b"", 1
        for data, final in _blocks(stream):
            buffer = carry + data
            if self.untimed_pattern is None:
                self._choose_format(buffer)
            # Past this size a "line" or record is read as it is rather than carried further.
            forced = final or len(buffer) >= LONGEST_RECORD_BYTES
            cut = len(buffer) if final else buffer.rfind(b"\n") + 1
            if cut == 0 and not forced:
                carry = buffer
                continue
            block = buffer if cut in (0, len(buffer)) else buffer[:cut]
            consumed, lines = self._scan_block(block, first_line_no, forced)
            if consumed == 0 and not forced:  # one record fills the block: read on
                carry = buffer
                continue
            first_line_no += lines
            carry = buffer[consumed:]
        return self.summary

    def _choose_format(self, sample: bytes) -> None:
        self.line_format = detect_line_format(sample, self.context)
        self.summary.format_name = self.line_format.name if self.line_format else None
        prefix = self.line_format.line_start if self.line_format else rb"(?!)"
        # A line start whose line is not blank, not indented and not in the file's usual format
        # (after a newline: a literal first character keeps the search fast; the block's first line
        # is checked on its own).
        self.untimed_pattern = re.compile(rb"\n(?!" + prefix + rb")(?=[^ \t\r\n])")
        self.first_line_pattern = re.compile(rb"(?!" + prefix + rb")(?=[^ \t\r\n])")

    def _scan_block(self, block: bytes, first_line_no: int, final: bool) -> tuple[int, int]:
        """Handle the complete records of the block; return how far it got (the rest is carried)
        and how many newlines that part held."""
        lowered = block.lower()
        record_spans, consumed = self._read_error_records(block, lowered, first_line_no, final)
        if consumed < len(block):  # copies only when a record is carried to the next block
            block, lowered = block[:consumed], lowered[:consumed]
        newlines = self._count_lines(block, first_line_no, record_spans)
        self._note_span(block)
        self._find_deploy_mentions(block, lowered, first_line_no)
        return consumed, newlines

    def _read_error_records(self, block: bytes, lowered: bytes, first_line_no: int, final: bool):
        spans: list[tuple[int, int]] = []
        counter = _LineCounter(block, first_line_no)
        covered_until = 0
        is_json = self.line_format is not None and self.line_format.name == "json"
        markers = ERROR_MARKERS + JSON_ERROR_MARKERS if is_json else ERROR_MARKERS
        for start in _marked_line_starts(lowered, markers, JSON_SERVER_ERROR if is_json else None):
            if start < covered_until:
                continue
            end = block.find(b"\n", start)
            if end != -1 and plainly_not_an_error(block[start:end], block[end + 1: end + 2]):
                continue
            assembled = assemble_record(block, start, self.line_format, self.context)
            if assembled.reached_block_end and not final:
                return spans, start
            covered_until = assembled.end
            spans.append((start, assembled.end))
            self._handle_record(assembled, block, counter.line_no(start))
        return spans, len(block)

    def _handle_record(self, assembled, block: bytes, line_no: int) -> None:
        if assembled.time is None:
            assembled.time = self._time_before(block, assembled.start)
        record = classify_record(assembled, self.summary.source, line_no, self.context)
        if record is None:
            return
        if record.time is not None:
            self.summary.see_time(record.time)
        self.summary.error_records += 1
        self.sink(record)

    def _time_before(self, block: bytes, start: int) -> float | None:
        """The time of the nearest earlier dated line (a traceback printed without its own time)."""
        position = start
        for _ in range(5):
            if position <= 0:
                break
            previous = block.rfind(b"\n", 0, position - 1) + 1
            found = parse_line_time(block[previous: position - 1], self.context, self.line_format)
            if found is not None:
                return found.epoch
            position = previous
        return self.last_time

    def _count_lines(self, block: bytes, first_line_no: int, record_spans: list[tuple[int, int]]) -> int:
        """Count lines, and find the ones whose time is not in the file's usual format; return the
        number of newlines."""
        newlines = block.count(b"\n")
        self.summary.lines += newlines + (0 if block.endswith(b"\n") or not block else 1)
        span_starts = [start for start, _ in record_spans]
        counter = _LineCounter(block, first_line_no)
        starts = [0] if self.first_line_pattern.match(block) else []
        starts += (match.end() for match in self.untimed_pattern.finditer(block))
        for start in starts:
            if start >= len(block) or _inside_records(start, record_spans, span_starts):
                continue
            self._check_other_format_line(block, start, counter)
        return newlines

    def _check_other_format_line(self, block: bytes, start: int, counter: "_LineCounter") -> None:
        end = block.find(b"\n", start)
        line = block[start: end if end != -1 else len(block)]
        found, _ = split_line(line, self.line_format, self.context)
        if found is not None:
            self.summary.see_time(found.epoch)
            self.summary.zoneless_lines += 0 if found.zoned else 1
            return
        self.summary.untimed_lines += 1
        if len(self.summary.untimed_examples) < UNTIMED_EXAMPLES_KEPT:
            text = line.decode("utf-8", "replace").strip()[:120]
            self.summary.untimed_examples.append(f"{self.summary.source}:{counter.line_no(start)}: {text}")

    def _note_span(self, block: bytes) -> None:
        """First and last dated lines of the block (files are written in time order, near enough)."""
        if self.line_format is None:
            return
        first = _first_dated_line(block, self.line_format, self.context)
        last = _last_dated_line(block, self.line_format, self.context)
        for found in (first, last):
            if found is not None:
                self.summary.see_time(found.epoch)
        if first is not None and not first.zoned:
            self.summary.usual_format_has_no_zone = True
        if last is not None:
            self.last_time = last.epoch

    def _find_deploy_mentions(self, block: bytes, lowered: bytes, first_line_no: int) -> None:
        mentions = self.scan_result.deploy_mentions
        counter = _LineCounter(block, first_line_no)
        for start in _marked_line_starts(lowered, DEPLOY_MARKERS):
            if len(mentions) >= DEPLOY_MENTIONS_KEPT:
                return
            end = block.find(b"\n", start)
            line = block[start: end if end != -1 else len(block)]
            tokens = COMMIT_TOKEN.findall(line.lower())
            if not tokens:
                continue
            found, _ = split_line(line, self.line_format, self.context)
            text = line.decode("utf-8", "replace").strip()[:200]
            line_no = counter.line_no(start)
            moment = found.epoch if found else None
            for token in dict.fromkeys(tokens):
                mentions.append(DeployMention(token.decode(), moment, self.summary.source, line_no, text))


def _blocks(stream) -> Iterator[tuple[bytes, bool]]:
    """Blocks of the stream, each with whether it is the last."""
    data = stream.read(BLOCK_BYTES)
    while True:
        following = stream.read(BLOCK_BYTES) if data else b""
        yield data, not following
        if not following:
            return
        data = following


def _marked_line_starts(lowered: bytes, markers: tuple[bytes, ...], pattern: re.Pattern | None = None) -> list[int]:
    """Sorted starts of the lines holding any of the markers (found with bytes.find, in C) or the pattern."""
    starts = {lowered.rfind(b"\n", 0, match.start()) + 1 for match in pattern.finditer(lowered)} if pattern else set()
    for marker in markers:
        position = lowered.find(marker)
        while position != -1:
            line_start = lowered.rfind(b"\n", 0, position) + 1
            starts.add(line_start)
            line_end = lowered.find(b"\n", position)
            if line_end == -1:
                break
            position = lowered.find(marker, line_end)
    return sorted(starts)


def _inside_records(position: int, spans: list[tuple[int, int]], starts: list[int]) -> bool:
    index = bisect.bisect_right(starts, position) - 1
    return index >= 0 and spans[index][0] <= position < spans[index][1]


def _first_dated_line(block: bytes, line_format: LineFormat, context: TimeContext):
    pattern = re.compile(rb"(?:^|\n)(?=" + line_format.pattern.pattern + rb")")
    match = pattern.search(block)
    if match is None:
        return None
    start = match.end()
    end = block.find(b"\n", start)
    return parse_line_time(block[start: end if end != -1 else len(block)], context, line_format)


def _last_dated_line(block: bytes, line_format: LineFormat, context: TimeContext):
    position = len(block)
    for _ in range(200):
        if position <= 0:
            return None
        start = block.rfind(b"\n", 0, max(position - 1, 0)) + 1
        line = block[start: position].rstrip(b"\n")
        found = parse_line_time(line, context, line_format) if line[:1] not in (b" ", b"\t") else None
        if found is not None:
            return found
        position = start
    return None


class _LineCounter:
    """Line numbers of increasing positions in a block, counting newlines only once."""

    def __init__(self, block: bytes, first_line_no: int):
        self.block = block
        self.position = 0
        self.line = first_line_no

    def line_no(self, position: int) -> int:
        if position < self.position:
            return self.line - self.block.count(b"\n", position, self.position)
        self.line += self.block.count(b"\n", self.position, position)
        self.position = position
        return self.line
