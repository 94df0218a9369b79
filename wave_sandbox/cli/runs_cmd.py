"""`wave-sandbox runs`: the run history of a repository, newest last."""

from __future__ import annotations

from pathlib import Path

import typer

from wave_sandbox.text_safety import printable_inline


def format_duration(duration_ms) -> str:
    return "" if duration_ms is None else f"{round(duration_ms / 1000)}s"


def runs_command(repo: Path = typer.Option(Path("."), "--repo", help="The repository (default: cwd).")) -> None:
    """List the runs recorded in this repository."""
    from wave_sandbox.engine.records import list_run_records

    records = list_run_records(repo.resolve())
    if not records:
        typer.echo("No runs yet.")
        return
    for record in records:
        data = record.data
        branch = data.get("branch") or ""
        pipeline = printable_inline(str(data.get("pipeline", "?")))
        typer.echo(printable_inline(
            f"{record.run_id}  {pipeline:<20} {data.get('status', '?'):<11} "
            f"{format_duration(data.get('duration_ms')):>6}  {branch}".rstrip()
        ))
