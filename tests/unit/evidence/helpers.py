"""Helpers for the evidence tests: small repositories (git fast-import) and log files written here."""

from __future__ import annotations

import os
from pathlib import Path

from tests.fixtures.evidence.common import HOUR, MINUTE, utc
from tests.fixtures.evidence.git_history import History
from tests.fixtures.evidence.service_logs import iso_ms

ONSET = utc("2026-02-10 14:30")


def traceback_text(frames: list[tuple[str, int, str, str]], exception: str) -> list[str]:
    """A Python traceback: frames as (path, line, function, source line), outermost first."""
    lines = ["Traceback (most recent call last):"]
    for path, line, function, source in frames:
        lines += [f'  File "{path}", line {line}, in {function}', f"    {source}"]
    return lines + [exception]


def log_lines(events: list[tuple[float, str, str, list[str] | None]]) -> str:
    """Python-logging lines (ISO with Z): (time, level, message, traceback lines or None)."""
    out = []
    for moment, level, message, traceback in sorted(events, key=lambda event: event[0]):
        out.append(f"{iso_ms(moment)} {level} app: {message}")
        out += traceback or []
    return "\n".join(out) + "\n"


def write_file(path: Path, text: str, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def every(start: float, end: float, step: float) -> list[float]:
    times, moment = [], start
    while moment < end:
        times.append(moment)
        moment += step
    return times


__all__ = ["HOUR", "MINUTE", "ONSET", "History", "every", "log_lines", "traceback_text", "write_file"]
