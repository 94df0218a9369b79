"""Step transcripts: one JSON line per exchange, appended, with secrets scrubbed, within byte caps.

A transcript never holds headers, so the real API key cannot reach it that way; but the agent can
echo its own token into a message (``env`` in a bash tool result), and an upstream error could
quote the key. So every line is scrubbed of every secret the gateway knows before it is written.

A step decides what goes into its transcript, and JSON escaping makes a control character six bytes,
so the host's disk is guarded twice: a refused request is kept only as ``capped_body`` (its digest,
size and first KiB), and the bytes written per step and per run are capped. A line that would pass a
cap is not written; a short line saying so is, and ``append`` raises ``TranscriptCapReached``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from wave_sandbox.errors import GatewayError
from wave_sandbox.secret_redaction import REDACTED, redact_secrets  # the one redactor, the engine's too

__all__ = [
    "REDACTED", "redact_secrets", "TranscriptWriter", "TranscriptCapReached", "exchange_record", "capped_body",
    "DEFAULT_STEP_TRANSCRIPT_BYTES", "DEFAULT_RUN_TRANSCRIPT_BYTES",
]  # fmt: skip

DEFAULT_STEP_TRANSCRIPT_BYTES = 64 * 1024 * 1024
DEFAULT_RUN_TRANSCRIPT_BYTES = 256 * 1024 * 1024
CAPPED_BODY_HEAD_BYTES = 1024

def capped_body(body: bytes, why: str) -> dict[str, Any]:
    """What a transcript keeps of a refused request body: never the whole of it."""
    return {
        "omitted": why,
        "sha256": hashlib.sha256(body).hexdigest(),
        "bytes": len(body),
        "head": body[:CAPPED_BODY_HEAD_BYTES].decode("utf-8", "replace"),
    }


class TranscriptCapReached(GatewayError):
    """A line was not written: the step's or the run's transcript bytes would pass their cap."""

    def __init__(self, message: str, whole_run: bool) -> None:
        super().__init__(message)
        self.whole_run = whole_run


def exchange_record(
    step_id: str,
    path: str,
    request: Any,
    status: int,
    response: Any,
    usage: dict[str, int],
    duration_ms: int,
) -> dict[str, Any]:
    """One transcript line: what the step asked, what it got back, and what that cost."""
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "step_id": step_id,
        "path": path,
        "request": request,
        "status": status,
        "response": response,
        "usage": usage,
        "duration_ms": duration_ms,
    }


class TranscriptWriter:
    """Appends exchange records to transcript files within byte caps; safe to call from many threads."""

    def __init__(
        self,
        secrets: Callable[[], Iterable[str]],
        max_step_bytes: int = DEFAULT_STEP_TRANSCRIPT_BYTES,
        max_run_bytes: int = DEFAULT_RUN_TRANSCRIPT_BYTES,
    ) -> None:
        # A callable, not a list: tokens issued after the writer was made must be scrubbed too.
        self._secrets = secrets
        self._lock = threading.Lock()
        self._max_step_bytes, self._max_run_bytes = max_step_bytes, max_run_bytes
        self._step_bytes: dict[Path, int] = {}
        self._run_bytes = 0
        self._full: set[Path | None] = set()  # transcripts past their cap (None: the whole run's)

    def append(self, transcript_path: Path, record: dict[str, Any]) -> int:
        """Write ``record`` as one line at the end of ``transcript_path`` (folders created); its size in bytes.

        Raises TranscriptCapReached (after writing a short line that says so) when the line would take
        the step's or the run's transcripts past their cap.
        """
        line = (redact_secrets(json.dumps(record, ensure_ascii=False), self._secrets()) + "\n").encode()
        with self._lock:
            cap_reached = self._cap_reached(transcript_path, len(line))
            if cap_reached is not None:
                if transcript_path in self._full or None in self._full:
                    raise cap_reached  # said once already: nothing more is written
                self._full.add(None if cap_reached.whole_run else transcript_path)
                note = {"time": record.get("time"), "step_id": record.get("step_id"), "transcript_cap": str(cap_reached)}
                self._write(transcript_path, (json.dumps(note) + "\n").encode())
                raise cap_reached
            return self._write(transcript_path, line)

    def _cap_reached(self, transcript_path: Path, size: int) -> TranscriptCapReached | None:
        step_bytes = self._step_bytes.get(transcript_path, 0)
        if step_bytes + size > self._max_step_bytes:
            return TranscriptCapReached(
                f"its transcript reached its cap of {_mib(self._max_step_bytes)} (a {_mib(size)} exchange after "
                f"{_mib(step_bytes)}); the gateway stopped the step",
                whole_run=False,
            )
        if self._run_bytes + size > self._max_run_bytes:
            return TranscriptCapReached(
                f"the run's transcripts reached their cap of {_mib(self._max_run_bytes)}; the gateway stopped the run",
                whole_run=True,
            )
        return None

    def _write(self, transcript_path: Path, data: bytes) -> int:
        try:
            transcript_path.parent.mkdir(parents=True, exist_ok=True)
            with transcript_path.open("ab") as transcript:
                transcript.write(data)
        except OSError as exc:
            raise GatewayError(
                f"cannot write the transcript {transcript_path}: {exc.strerror or exc}. "
                "Check that the run folder is writable."
            ) from exc
        self._step_bytes[transcript_path] = self._step_bytes.get(transcript_path, 0) + len(data)
        self._run_bytes += len(data)
        return len(data)


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"
