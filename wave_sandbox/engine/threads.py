"""Wave's conversation threads: steps sharing a `thread` see the earlier steps' final answers.

As Wave's ThreadManager: a finished step of a thread keeps its final answer (here in its record folder,
`thread_answer.txt`, so `resume` still has it); a later step of the thread gets, before its prompt, a
"THREAD CONTEXT" section with those answers: `full` (the default with a thread) gives each answer
under `## Step: <id> at <time>`, `compact` (and `summary`, which Wave falls back to without its relay
adapter) each answer cut at 500 characters under `### <id> (completed)`, `fresh` nothing. The oldest
answers are dropped past 100,000 characters, as Wave caps a thread.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from wave_sandbox.spec.models import Pipeline, Step

ANSWER_FILE = "thread_answer.txt"
MAX_THREAD_CHARS = 100_000
COMPACT_CHARS = 500


def effective_fidelity(step: Step) -> str:
    if step.fidelity:
        return str(step.fidelity)
    return "full" if step.thread else "fresh"


def save_thread_answer(step_folder: Path, step: Step, final_text: str) -> None:
    """Keep a finished thread step's final answer for the later steps of its thread."""
    if step.thread and final_text.strip():
        (step_folder / ANSWER_FILE).write_text(final_text, encoding="utf-8")


def thread_context(pipeline: Pipeline, step: Step, step_folder_of) -> str:
    """The THREAD CONTEXT section for `step` ("" when it has no thread or nothing came before)."""
    fidelity = effective_fidelity(step)
    if not step.thread or fidelity == "fresh":
        return ""
    entries = _earlier_answers(pipeline, step, step_folder_of)
    if not entries:
        return ""
    body = "".join(_format(step_id, stamp, text, fidelity) for step_id, stamp, text in entries)
    return (
        "## THREAD CONTEXT\n\nThe following is conversation history from prior steps in this thread group.\n\n"
        f"{body}\n---\n\n"
    )


def _earlier_answers(pipeline: Pipeline, step: Step, step_folder_of) -> list[tuple[str, str, str]]:
    entries = []
    for other in pipeline.steps:
        if other.id == step.id:
            break
        answer = step_folder_of(other.id) / ANSWER_FILE
        if other.thread == step.thread and answer.is_file():
            stamp = datetime.fromtimestamp(answer.stat().st_mtime, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            entries.append((other.id, stamp, answer.read_text(encoding="utf-8", errors="replace")))
    while sum(len(text) for _, _, text in entries) > MAX_THREAD_CHARS and len(entries) > 1:
        entries.pop(0)
    return entries


def _format(step_id: str, stamp: str, text: str, fidelity: str) -> str:
    if fidelity == "full":
        return f"## Step: {step_id} at {stamp}\n\n{text}\n\n"
    shortened = text if len(text) <= COMPACT_CHARS else text[:COMPACT_CHARS] + "..."
    return f"### {step_id} (completed)\n{shortened}\n\n"
