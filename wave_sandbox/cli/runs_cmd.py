"""`wave-sandbox runs`: the run history of a repository, newest last."""

from __future__ import annotations

from pathlib import Path

import typer

from wave_sandbox.text_safety import printable_inline
from wave_sandbox.workspace.repository_root import repository_root


def format_duration(duration_ms: int | None) -> str:
    return "" if duration_ms is None else f"{round(duration_ms / 1000)}s"


def runs_command(repo: Path = typer.Option(Path("."), "--repo", help="The repository (default: the one holding the cwd).")) -> None:
    """List the runs recorded in this repository."""
    # Imported when the command runs: run records load the run.json model, which `--help` need not pay for.
    from wave_sandbox.engine.records import list_run_records
    from wave_sandbox.engine.run_state import run_state

    records = list_run_records(repository_root(repo))
    if not records:
        typer.echo("No runs yet.")
        return
    for record in records:
        recorded = record.run_file
        pipeline = printable_inline(recorded.pipeline)
        typer.echo(printable_inline(
            f"{record.run_id}  {pipeline:<20} {run_state(recorded).label:<11} "
            f"{format_duration(recorded.duration_ms):>6}  {recorded.branch or ''}".rstrip()
        ))
