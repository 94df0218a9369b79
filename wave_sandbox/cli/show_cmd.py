"""`wave-sandbox show RUN`: one run's steps, their status, timings, tokens and summaries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from wave_sandbox.cli.render import format_review_warning, format_tokens
from wave_sandbox.cli.runs_cmd import format_duration
from wave_sandbox.text_safety import printable_inline
from wave_sandbox.workspace.acting_files import ActingFile
from wave_sandbox.workspace.repository_root import repository_root


def show_command(
    run: str = typer.Argument(..., help="Run id, a unique prefix of it, or 'latest'."),
    repo: Path = typer.Option(Path("."), "--repo", help="The repository (default: the one holding the cwd)."),
) -> None:
    """Show one run's steps."""
    # Imported when the command runs: run records load the run.json model, which `--help` need not pay for.
    from wave_sandbox.engine.run_lookup import find_run
    from wave_sandbox.engine.run_state import run_state

    recorded = find_run(repository_root(repo), run).run_file
    state = run_state(recorded)  # a run whose process is gone is interrupted, whatever run.json says
    # Every value may come from a pipeline, a repository or an agent: each line goes through the sanitizer.
    echo_line(f"Run {recorded.run_id}: {recorded.pipeline} {state.label} "
              f"{format_duration(recorded.duration_ms)}".rstrip())
    echo_line(f"Model: {recorded.model}")
    if recorded.failure:
        echo_line(f"Failure: {recorded.failure}")
    for step_id, step in recorded.steps.items():
        echo_line(
            f"  {printable_inline(step_id):<17} {state.step_statuses.get(step_id, step.status):<10} "
            f"{format_duration(step.duration_ms):>5} "
            f"{format_tokens(step.tokens) if step.tokens else '':>6} {step.summary or ''}".rstrip()
        )
    if recorded.branch:
        echo_line(f"Branch: {recorded.branch} ({len(recorded.commits)} commit(s))")
        show_acting_files(recorded.branch, recorded.acting_files)


def echo_line(line: str) -> None:
    typer.echo(printable_inline(line))


def show_acting_files(branch: str, records: list[dict[str, Any]]) -> None:
    acting = [ActingFile(str(record.get("path", "")), str(record.get("reason", ""))) for record in records]
    for line in format_review_warning(branch, acting):
        echo_line(line)
