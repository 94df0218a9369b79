"""Displays that listen to run events: the seed's console lines, or one JSON object per line."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from wave_sandbox.engine.events import (
    INTERRUPTED_MESSAGE,
    RUN_COMPLETED,
    RUN_FAILED,
    RUN_STARTED,
    STEP_STARTED,
    RunEvent,
)
from wave_sandbox.text_safety import json_printable, printable_inline


def format_tokens(count: int | None) -> str:
    """`2.1k` style: whole numbers below a thousand, one decimal above."""
    if count is None:
        return ""
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        return f"{count / 1000:.1f}k"
    return f"{count / 1_000_000:.1f}M"


def format_seconds(duration_ms: int | None) -> str:
    if duration_ms is None:
        return ""
    return f"{round(duration_ms / 1000)}s"


def format_step_line(event: RunEvent) -> str:
    """One step event in the seed's columns; a long id or persona pushes the rest right."""
    clock = event.timestamp.astimezone().strftime("%H:%M:%S")
    persona = f"({event.persona})" if event.persona else ""
    head = f"[{clock}] {event.state:<9} {event.step_id:<17} "
    if event.state == STEP_STARTED or event.duration_ms is None:
        return f"{head}{persona:<24} {event.message}".rstrip()
    tokens_total = (event.tokens_in or 0) + (event.tokens_out or 0)
    duration, tokens = format_seconds(event.duration_ms), format_tokens(tokens_total)
    return f"{head}{persona:<12} {duration:>4} {tokens:>6} {event.message}".rstrip()


def format_run_summary(event: RunEvent) -> list[str]:
    """The closing lines: pipeline and duration, the final artifacts, the branch."""
    seconds = format_seconds(event.duration_ms)
    if event.state == RUN_COMPLETED:
        lines = [f"Pipeline {event.pipeline} completed in {seconds}"]
    elif event.message == INTERRUPTED_MESSAGE:
        lines = [f"Pipeline {event.pipeline} interrupted after {seconds}"]
    else:
        lines = [f"Pipeline {event.pipeline} failed after {seconds}: {event.message}"]
    if event.artifacts:
        lines.append(f"Artifacts: {', '.join(event.artifacts)}")
    if event.branch:
        lines.append(f"Branch: {event.branch} ({describe_branch(event)})")
    return lines


def format_review_warning(branch: str | None, acting: list) -> list[str]:
    """Files on the review branch that act when checked out or built (workspace.acting_files), by name."""
    if not branch or not acting:
        return []
    from wave_sandbox.workspace.acting_files import listed_for_reviewer

    count = f"{len(acting)} file{'s' if len(acting) != 1 else ''}"
    return [f"warning: review {branch} before checking it out or building it: {count} on it act when "
            "checked out, opened or built:", *listed_for_reviewer(acting)]


def describe_branch(event: RunEvent) -> str:
    commits = len(event.commits)
    commit_word = "commit" if commits == 1 else "commits"
    files = event.branch_files_changed or 0
    file_word = "file" if files == 1 else "files"
    return f"{commits} {commit_word}, {files} {file_word} changed"


class ConsoleRenderer:
    """Prints step lines as they happen, then a blank line and the closing lines; the reviewer's
    warning comes after them, on the error stream, so the seed's lines stay exactly as they are."""

    def __init__(self, stream: TextIO | None = None, error_stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        self.error_stream = error_stream or sys.stderr

    def __call__(self, event: RunEvent) -> None:
        if event.state == RUN_STARTED:
            return
        if event.state in (RUN_COMPLETED, RUN_FAILED):
            self._write(["", *format_run_summary(event)])
            warn_reviewer(event, self.error_stream)
        else:
            self._write([format_step_line(event)])

    def _write(self, lines: list[str]) -> None:
        for line in lines:  # step ids, personas, messages, artifact names: the pipeline's and agents' words
            print(printable_inline(line), file=self.stream, flush=True)


def warn_reviewer(event: RunEvent, stream: TextIO) -> None:
    for line in format_review_warning(event.branch, event.branch_acting_files):
        print(line, file=stream, flush=True)


class JsonLinesRenderer:
    """`--json`: one JSON object per event on stdout and nothing else there (the reviewer's warning
    goes to the error stream, as with the console)."""

    def __init__(self, stream: TextIO | None = None, error_stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        self.error_stream = error_stream or sys.stderr

    def __call__(self, event: RunEvent) -> None:
        print(json_printable(json.dumps(event.to_json_dict(), ensure_ascii=False)), file=self.stream, flush=True)
        if event.state in (RUN_COMPLETED, RUN_FAILED):
            warn_reviewer(event, self.error_stream)
