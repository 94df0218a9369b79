"""`wave-sandbox show RUN`: one run's steps, their status, timings, tokens and summaries."""

from __future__ import annotations

from pathlib import Path

import typer

from wave_sandbox.cli.render import format_tokens
from wave_sandbox.cli.runs_cmd import format_duration
from wave_sandbox.text_safety import printable_inline


def show_command(
    run: str = typer.Argument(..., help="Run id, a unique prefix of it, or 'latest'."),
    repo: Path = typer.Option(Path("."), "--repo", help="The repository (default: cwd)."),
) -> None:
    """Show one run's steps."""
    from wave_sandbox.engine.run_lookup import find_run

    data = find_run(repo.resolve(), run).data
    # Every value may come from a pipeline, a repository or an agent: each line goes through the sanitizer.
    echo_line(f"Run {data['run_id']}: {data.get('pipeline')} {data.get('status')} "
              f"{format_duration(data.get('duration_ms'))}".rstrip())
    echo_line(f"Model: {data.get('model')}")
    if data.get("failure"):
        echo_line(f"Failure: {data['failure']}")
    for step_id, step in data.get("steps", {}).items():
        tokens = (step.get("tokens_in") or 0) + (step.get("tokens_out") or 0)
        echo_line(
            f"  {printable_inline(step_id):<17} {step.get('status', '?'):<10} "
            f"{format_duration(step.get('duration_ms')):>5} "
            f"{format_tokens(tokens) if tokens else '':>6} {step.get('summary') or ''}".rstrip()
        )
    if data.get("branch"):
        echo_line(f"Branch: {data['branch']} ({len(data.get('commits') or [])} commit(s))")
        show_acting_files(data["branch"], data.get("acting_files") or [])


def echo_line(line: str) -> None:
    typer.echo(printable_inline(line))


def show_acting_files(branch: str, records: list[dict]) -> None:
    from wave_sandbox.cli.render import format_review_warning
    from wave_sandbox.workspace.acting_files import ActingFile

    acting = [ActingFile(str(record.get("path", "")), str(record.get("reason", ""))) for record in records]
    for line in format_review_warning(branch, acting):
        echo_line(line)
