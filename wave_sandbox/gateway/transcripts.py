"""Step transcripts: one JSON line per exchange, appended, with secrets scrubbed.

A transcript never holds headers, so the real API key cannot reach it that way; but the agent can
echo its own token into a message (``env`` in a bash tool result), and an upstream error could
quote the key. So every line is scrubbed of every secret the gateway knows before it is written.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from wave_sandbox.errors import GatewayError

__all__ = ["REDACTED", "redact_secrets", "TranscriptWriter", "exchange_record"]

REDACTED = "[redacted]"
# Below this length a "secret" (a test key such as "x") would wipe ordinary text out of every transcript.
MIN_SECRET_CHARS = 8


def redact_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each secret (and its JSON-escaped form) replaced by ``[redacted]``."""
    for secret in secrets:
        if len(secret) < MIN_SECRET_CHARS:
            continue
        escaped = json.dumps(secret, ensure_ascii=False)[1:-1]
        for form in {secret, escaped}:
            text = text.replace(form, REDACTED)
    return text


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
    """Appends exchange records to transcript files; safe to call from many threads."""

    def __init__(self, secrets: Callable[[], Iterable[str]]) -> None:
        # A callable, not a list: tokens issued after the writer was made must be scrubbed too.
        self._secrets = secrets
        self._lock = threading.Lock()

    def append(self, transcript_path: Path, record: dict[str, Any]) -> None:
        """Write ``record`` as one line at the end of ``transcript_path`` (folders created)."""
        line = redact_secrets(json.dumps(record, ensure_ascii=False), self._secrets()) + "\n"
        try:
            with self._lock:
                transcript_path.parent.mkdir(parents=True, exist_ok=True)
                with transcript_path.open("a", encoding="utf-8") as transcript:
                    transcript.write(line)
        except OSError as exc:
            raise GatewayError(
                f"cannot write the transcript {transcript_path}: {exc.strerror or exc}. "
                "Check that the run folder is writable."
            ) from exc
