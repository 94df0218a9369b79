"""Errors grouped into signatures: what kind of error, raised where.

A traceback's signature is its exception type plus the innermost frame that belongs to the
repository (`orders.db.PoolTimeout at orders/db.py in _acquire`): the same failure reached through
different callers is one signature. Errors without a repository frame are grouped by their message
as a template, with numbers, ids, addresses and hex masked; HTTP 5xx access lines by status, method
and templated path.
"""

from __future__ import annotations

import hashlib
import re
from array import array
from collections import Counter
from dataclasses import dataclass, field

from wave_sandbox.evidence.external_causes import external_cause
from wave_sandbox.evidence.frames import RepositoryFiles, library_package
from wave_sandbox.evidence.records import ErrorRecord

__all__ = ["EvidenceLine", "RepoFrame", "Signature", "SignatureBook", "template_message"]

MAX_SIGNATURES = 2000
OVERFLOW_KEY = "(other errors: too many distinct signatures)"
SAMPLES_KEPT = 3
# One sample per minute of each signature, so the onset can quote the errors where the rate jumped;
# capped over all signatures so that memory stays bounded whatever the logs hold.
SAMPLE_BUCKET_S = 60
BUCKET_SAMPLES_KEPT = 20000
DISTINCT_FRAMES_KEPT = 64
DISTINCT_ENDPOINTS_KEPT = 20
MESSAGE_CHARS_KEPT = 300
MASKS = (
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), "<uuid>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<addr>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "<ip>"),
    (re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b"), "<email>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,}\b"), "<hex>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
)
REQUEST_PATH_QUERY = re.compile(r"=[^&\s]*")


def template_message(text: str) -> str:
    """The message with numbers, ids, addresses and hex masked, whitespace collapsed."""
    for pattern, placeholder in MASKS:
        text = pattern.sub(placeholder, text)
    return " ".join(text.split())[:MESSAGE_CHARS_KEPT]


def template_request_path(path: str) -> str:
    return template_message(REQUEST_PATH_QUERY.sub("=<v>", path))


@dataclass(frozen=True)
class RepoFrame:
    """A frame that belongs to the repository: file, function, and line as deployed (and its code)."""

    path: str
    function: str
    line: int
    source: str = field(default="", compare=False)


@dataclass(frozen=True)
class EvidenceLine:
    """A log line to quote: file, line number and text."""

    source: str
    line_no: int
    text: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line_no}: {self.text}"


@dataclass
class Signature:
    """Every error of one kind: counts, times, samples, and the repository frames it went through."""

    key: str
    exception: str | None
    frame: RepoFrame | None
    message: str
    origin: str = "log"
    """"traceback", "log" (an error line without one) or "http" (a 5xx access line)."""
    times: array = field(default_factory=lambda: array("d"))
    count: int = 0
    sources: set[str] = field(default_factory=set)
    samples: list[list[EvidenceLine]] = field(default_factory=list)
    samples_by_minute: dict[int, tuple[float, list[EvidenceLine]]] = field(default_factory=dict)
    last_sample: list[EvidenceLine] = field(default_factory=list)
    frames: Counter = field(default_factory=Counter)
    frame_depths: dict[RepoFrame, int] = field(default_factory=dict)
    """How far from the innermost repository frame each frame was seen at its closest (0: innermost)."""
    library_packages: dict[str, int] = field(default_factory=dict)
    """Third-party packages in the traces, with how close to the raising frame each came (0: it raised)."""
    endpoints: Counter = field(default_factory=Counter)
    raw_messages: list[str] = field(default_factory=list)
    infrastructure: bool = False
    external: tuple[str, str | None] | None = None
    """(kind, target) when the errors read as a failure outside the code (external_causes.py)."""
    language: str | None = None
    # Filled in by onset.py:
    kind: str = "background"
    change_time: float | None = None
    change_score: float = 0.0
    rate_before_per_hour: float = 0.0
    rate_after_per_hour: float = 0.0
    events_after_change: int = 0
    rate_ratio: float = 0.0
    weight: float = 0.0

    @property
    def id(self) -> str:
        return "sig-" + hashlib.sha1(self.key.encode()).hexdigest()[:8]

    @property
    def first_seen(self) -> float | None:
        return min(self.times) if self.times else None

    @property
    def last_seen(self) -> float | None:
        return max(self.times) if self.times else None


class SignatureBook:
    """Collects error records into signatures (the sink of logs.scan_logs)."""

    def __init__(self, repository_files: RepositoryFiles):
        self.files = repository_files
        self.signatures: dict[str, Signature] = {}
        self.untimed_errors = 0
        self.bucket_samples = 0

    def add(self, record: ErrorRecord) -> None:
        signature = self._signature_for(record)
        signature.count += 1
        signature.sources.add(record.source)
        if record.time is not None:
            signature.times.append(record.time)
        else:
            self.untimed_errors += 1
        self._keep_sample(signature, record)
        self._note_frames(signature, record)
        if record.http is None and len(signature.endpoints) < DISTINCT_ENDPOINTS_KEPT:
            for endpoint in re.findall(r"(?:GET|POST|PUT|PATCH|DELETE) (/[^\s\"?]*)", record.message):
                signature.endpoints[template_request_path(endpoint)] += 1

    def _signature_for(self, record: ErrorRecord) -> Signature:
        key, exception, frame, message = self._describe(record)
        signature = self.signatures.get(key)
        if signature is None:
            if len(self.signatures) >= MAX_SIGNATURES:
                return self.signatures.setdefault(OVERFLOW_KEY, Signature(OVERFLOW_KEY, None, None, OVERFLOW_KEY))
            origin = "http" if record.http is not None else "traceback" if record.traceback else "log"
            signature = Signature(key=key, exception=exception, frame=frame, message=message, origin=origin)
            trace_message = record.traceback.message if record.traceback else ""
            signature.external = external_cause(f"{exception or ''} {record.message} {trace_message}")
            signature.infrastructure = signature.external is not None
            signature.language = record.traceback.language if record.traceback else None
            self.signatures[key] = signature
        return signature

    def _describe(self, record: ErrorRecord) -> tuple[str, str | None, RepoFrame | None, str]:
        """(key, exception type, innermost repository frame, templated message)."""
        if record.http is not None:
            method, path, status = record.http
            message = f"HTTP {status} {method} {template_request_path(path)}"
            return message, None, None, message
        traceback = record.traceback
        if traceback is None:
            message = template_message(record.message)
            return message, None, None, message
        if not traceback.exception_type:  # a bare stack (Go's debug.Stack): the logged message says what
            message = template_message(record.message)
            frame = self._innermost_repo_frame(traceback.frames)
            key = f"{message} at {frame.path} in {frame.function}" if frame else message
            return key, None, frame, message
        message = template_message(traceback.message)
        frame = self._innermost_repo_frame(traceback.final_frames) or self._innermost_repo_frame(traceback.frames)
        if frame is None:
            return f"{traceback.exception_type}: {message}", traceback.exception_type, None, message
        return f"{traceback.exception_type} at {frame.path} in {frame.function}", traceback.exception_type, frame, message

    def _innermost_repo_frame(self, frames) -> RepoFrame | None:
        for frame in reversed(frames):
            repo_frame = self._repo_frame(frame)
            if repo_frame is not None:
                return repo_frame
        return None

    def _repo_frame(self, frame) -> RepoFrame | None:
        """The frame in the repository's terms; its line is 0 (unknown) in compiled JavaScript
        placed in its TypeScript source without a source map."""
        path = self.files.map_frame_path(frame.path)
        if path is None:
            return None
        line = 0 if frame.path in self.files.compiled else frame.line
        return RepoFrame(path, frame.function, line, frame.source)

    def _keep_sample(self, signature: Signature, record: ErrorRecord) -> None:
        lines = [EvidenceLine(record.source, record.line_no, record.header.strip())]
        if record.exception_line and record.exception_line[1] != record.header.strip():
            lines.append(EvidenceLine(record.source, record.exception_line[0], record.exception_line[1][:300]))
        if len(signature.samples) < SAMPLES_KEPT:
            signature.samples.append(lines)
            raw = record.traceback.message if record.traceback else record.message
            signature.raw_messages.append(raw[:MESSAGE_CHARS_KEPT])
        signature.last_sample = lines
        if record.time is not None and self.bucket_samples < BUCKET_SAMPLES_KEPT:
            minute = int(record.time // SAMPLE_BUCKET_S)
            kept = signature.samples_by_minute.get(minute)
            if kept is None or record.time < kept[0]:
                self.bucket_samples += kept is None
                signature.samples_by_minute[minute] = (record.time, lines)

    def sample_at(self, signature: Signature, moment: float) -> list[EvidenceLine]:
        """The lines of the signature's first error at or after `moment` that was kept."""
        minutes = sorted(minute for minute in signature.samples_by_minute if minute >= int(moment // SAMPLE_BUCKET_S))
        for minute in minutes:
            sample_time, lines = signature.samples_by_minute[minute]
            if sample_time >= moment - 1e-6:
                return lines
        return signature.samples[0] if signature.samples else []

    def _note_frames(self, signature: Signature, record: ErrorRecord) -> None:
        if record.traceback is None:
            return
        repo_frames = []
        for depth, frame in enumerate(reversed(record.traceback.frames)):
            repo_frame = self._repo_frame(frame)
            if repo_frame is not None:
                repo_frames.append(repo_frame)
                continue
            package = library_package(frame.path)
            if package:
                signature.library_packages[package] = min(depth, signature.library_packages.get(package, depth))
        repo_frames.reverse()
        for depth, frame in enumerate(reversed(repo_frames)):
            if frame in signature.frames or len(signature.frames) < DISTINCT_FRAMES_KEPT:
                signature.frames[frame] += 1
                signature.frame_depths[frame] = min(depth, signature.frame_depths.get(frame, depth))
