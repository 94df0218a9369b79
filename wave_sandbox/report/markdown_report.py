"""`report.md`: the run report as Markdown, for a terminal, a review tool or a ticket.

Text from agents, models and the repository goes inside code spans and fenced blocks whose fence is
longer than any backtick run in it, after the sanitizer: it reads as quoted text, never as markup.
"""

from __future__ import annotations

import re

from wave_sandbox.report.run_report import ArtifactView, RunReport, StepView
from wave_sandbox.text_safety import one_printable_line, printable_text
from wave_sandbox.units import format_seconds, format_tokens

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!~&])")


def render_markdown(report: RunReport) -> str:
    run = report.run
    lines = [f"# Run {run.run_id}: {_inline(run.pipeline)}", "",
             f"- Status: **{run.status}**" + (f" — {_inline(run.failure)}" if run.failure else ""),
             f"- Started: {run.started_at or '?'}; took {format_seconds(run.duration_ms) or '?'}",
             f"- Model: {_inline(run.model or '?')}", f"- Input: {_inline(run.input)}", ""]
    lines += ["## Steps", "", "| step | persona | model | status | start | duration | tokens | cost | retries |",
              "|---|---|---|---|---|---|---|---|---|", *(_step_row(step) for step in report.steps), ""]
    for step in report.steps:
        lines += _step_section(step)
    lines += _suspects(report) + _branch(report)
    return "\n".join(lines).rstrip() + "\n"


def _step_row(step: StepView) -> str:
    record = step.record
    cost = f"${step.cost_usd:.4f}" if step.cost_usd is not None else ""
    cells = [_inline(step.step_id), _inline(record.persona or ""), _inline(record.model or ""), str(record.status),
             f"+{step.offset_s:.0f}s", format_seconds(record.duration_ms), format_tokens(record.tokens or None), cost,
             str(len(record.retry_errors))]
    return "| " + " | ".join(cells) + " |"


def _step_section(step: StepView) -> list[str]:
    record = step.record
    lines = [f"## Step {_inline(step.step_id)}", "", f"Summary: {_inline(record.summary or '')}", ""]
    for note in [*record.refusals, *record.retry_errors]:
        lines.append(f"- {_inline(note)}")
    if record.refusals or record.retry_errors:
        lines.append("")
    for artifact in step.artifacts:
        lines += _artifact(artifact)
    return lines


def _artifact(artifact: ArtifactView) -> list[str]:
    text = artifact.shown_text
    cut = " (first 64 KiB)" if artifact.truncated else ""
    language = {"json": "json", "markdown": "markdown"}.get(artifact.kind, "")
    return [f"### Artifact {_inline(artifact.name)} ({artifact.size} bytes){cut}", "", *_fenced(text, language), ""]


def _suspects(report: RunReport) -> list[str]:
    found = report.suspects
    if found is None:
        return []
    lines = ["## Evidence", "", f"From step {_inline(found.step_id)}: {_inline(found.verdict)}", ""]
    for suspect in found.suspects:
        lines.append(f"{suspect.rank}. {_inline(suspect.commit[:12])} {_inline(suspect.subject)} (score {suspect.score:g})")
    return lines + [""]


def _branch(report: RunReport) -> list[str]:
    run = report.run
    if not run.branch:
        return []
    lines = ["## Review branch", "", f"{_inline(run.branch)} ({len(run.commits)} commit(s))", ""]
    if report.acting_files:
        lines += ["Review before checking it out or building it: these files act when checked out or built:", ""]
        lines += [f"- {_inline(path)}: {_inline(reason)}" for path, reason in report.acting_files] + [""]
    if report.diff_problem:
        return lines + [_inline(report.diff_problem), ""]
    if report.diff is not None:
        cut = ["(diff cut at 512 KiB)", ""] if report.diff_truncated else []
        lines += _fenced(report.diff.stat, "") + [""] + _fenced(report.diff.diff, "diff") + [""] + cut
    return lines


def _inline(text: str | None) -> str:
    """One printable line whose Markdown characters are escaped: an agent's `[x](javascript:…)` stays text."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_printable_line(text or "", 500))


def _fenced(text: str, language: str) -> list[str]:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", printable_text(text).rstrip("\n"), fence]
