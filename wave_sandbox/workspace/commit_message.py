"""The message of a step's commit on the review branch: a subject that says what the change is, a body
that says where it came from, and the run's trailers.

Everything but the trailers comes from the container (the agent's final answer), so it is hostile: the
subject is one printable line with bidi and invisible characters written as escapes, and the body's
lines are indented, so no line of it can pose as a trailer or as the subject of another commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from wave_sandbox.text_safety import one_printable_line
from wave_sandbox.workspace.acting_files import ActingFile, listed_for_reviewer
from wave_sandbox.workspace.path_rules import INVISIBLE_OR_REORDERING

SUMMARY_MAX_CHARS = 200
SUBJECT_MAX_CHARS = 72
BODY_MAX_LINES = 40
BODY_LINE_MAX_CHARS = 200
BARE_STATUS_WORDS = 3
"""A first line of at most this many words ("Fix ready") is a status, not a description."""
_FIRST_CLAUSE = re.compile(r"^(.+?)(?:[.;](?:\s|$)|$)")


@dataclass(frozen=True)
class CommitDetails:
    """What the step said beyond its one-line summary, and the artifacts it worked from."""

    final_text: str = ""
    sources: list[tuple[str, str]] = field(default_factory=list)
    """(what, where): an injected artifact's name and its path in the run's record."""


def escaped_line(text: str, limit: int, empty: str = "") -> str:
    line = one_printable_line(text, limit, empty=empty)
    return INVISIBLE_OR_REORDERING.sub(lambda match: ascii(match.group())[1:-1], line)


def commit_summary(summary: str) -> str:
    """The model's summary as one printable line. A bidi or zero-width character left in it is written
    as its escape (`\\u202e`): a commit subject is read in terminals and web views that would reorder it."""
    return escaped_line(summary, SUMMARY_MAX_CHARS, empty="no summary")


def commit_subject(summary: str, final_text: str = "") -> str:
    """The summary line; a bare status ("Fix ready") gains the first clause of what follows it."""
    subject = summary.strip()
    following = _following_lines(final_text, summary)
    if len(subject.split()) <= BARE_STATUS_WORDS and following:
        clause = _FIRST_CLAUSE.match(following[0].strip())
        subject = f"{subject.rstrip(':')}: {clause.group(1) if clause else following[0]}"
    return _cut_at_word(commit_summary(subject), SUBJECT_MAX_CHARS)


def commit_body(step_id: str, persona: str, run_id: str, details: CommitDetails) -> str:
    """Who made the change in which run, what it said, and the artifacts it read, indented as quotes."""
    lines = [f"Step {escaped_line(step_id, 100)} ({escaped_line(persona, 40)}) of run {run_id}."]
    said = [escaped_line(line, BODY_LINE_MAX_CHARS) for line in _following_lines(details.final_text)]
    if said:
        shown = said[:BODY_MAX_LINES] + (["[…]"] if len(said) > BODY_MAX_LINES else [])
        lines += ["", f"The {escaped_line(persona, 40)}'s report:", *(f"    {line}".rstrip() for line in shown)]
    if details.sources:
        lines += ["", "Based on:", *(f"    {escaped_line(what, 80)}: {escaped_line(where, 300)}"
                                     for what, where in details.sources)]
    return "\n".join(lines)


def review_warning(acting: list[ActingFile]) -> str:
    if not acting:
        return ""
    lines = "\n".join(listed_for_reviewer(acting))
    return f"Review before checking out or building: these files act when checked out or built:\n{lines}\n\n"


def _following_lines(final_text: str, summary: str | None = None) -> list[str]:
    """The final text after its first non-empty line (the summary), without blank lines at the ends."""
    lines = final_text.strip().splitlines()
    if lines and (summary is None or lines[0].strip() == summary.strip()):
        lines = lines[1:]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _cut_at_word(line: str, limit: int) -> str:
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + "…"
