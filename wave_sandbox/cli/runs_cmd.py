"""`wave-sandbox runs`: the run history of a repository, newest last."""

from __future__ import annotations

from pathlib import Path

import typer

from wave_sandbox.text_safety import printable_inline
from wave_sandbox.units import format_seconds as format_duration


def format_cost(cost_usd: float | None) -> str:
    """`$0.0123`, or nothing for a record without a cost (older records)."""
    from wave_sandbox.gateway.prices import format_usd

    return "" if cost_usd is None else format_usd(cost_usd)


def runs_command(repo: Path = typer.Option(Path("."), "--repo", help="The repository (default: cwd).")) -> None:
    """List the runs recorded in this repository."""
    # Imported when the command runs: run records load the run.json model, which `--help` need not pay for.
    from wave_sandbox.engine.records import list_run_records
    from wave_sandbox.engine.run_state import run_state

    records = list_run_records(repo.resolve())
    if not records:
        typer.echo("No runs yet.")
        return
    for record in records:
        recorded = record.run_file
        pipeline = printable_inline(recorded.pipeline)
        typer.echo(printable_inline(
            f"{record.run_id}  {pipeline:<20} {run_state(recorded).label:<11} "
            f"{format_duration(recorded.duration_ms):>6}"
            f"{'' if recorded.cost_usd is None else f' {format_cost(recorded.cost_usd):>8}'}  "
            f"{recorded.branch or ''}".rstrip()
        ))
