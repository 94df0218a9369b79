"""`wave-sandbox runs`: the run history of a repository as a table, newest last.

Columns: run, pipeline, status (the true one: a run whose process is gone is `interrupted (process
ended)`), started (local time), duration, model, cost, branch. `--pipeline`, `--status` and `--limit`
filter; `--json` prints the same rows as a list of objects.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Optional

import typer

from wave_sandbox.text_safety import printable_inline
from wave_sandbox.workspace.repository_root import repository_root
from wave_sandbox.units import format_seconds as format_duration

COLUMNS = ("RUN", "PIPELINE", "STATUS", "STARTED", "DURATION", "MODEL", "COST", "BRANCH")


def format_cost(cost_usd: float | None) -> str:
    """`$0.0123`, or nothing for a record without a cost (older records)."""
    from wave_sandbox.gateway.prices import format_usd

    return "" if cost_usd is None else format_usd(cost_usd)


def runs_command(
    repo: Path = typer.Option(Path("."), "--repo", help="The repository (default: the one holding the cwd)."),
    pipeline: Optional[str] = typer.Option(None, "--pipeline", help="Only runs of this pipeline."),
    status: Optional[str] = typer.Option(
        None, "--status", metavar="STATUS", help="Only runs with this status (completed, failed, interrupted, running…)."
    ),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the newest N runs."),
    as_json: bool = typer.Option(False, "--json", help="A JSON list of the runs instead of the table."),
) -> None:
    """List the runs recorded in this repository."""
    # Imported when the command runs: run records load the run.json model, which `--help` need not pay for.
    from wave_sandbox.engine.records import list_run_records
    from wave_sandbox.engine.run_state import run_state

    rows = []
    for record in list_run_records(repository_root(repo)):
        recorded = record.run_file
        state = run_state(recorded)
        if (pipeline and recorded.pipeline != pipeline) or (status and str(state.status) != status):
            continue
        rows.append(run_row(recorded, state))
    rows = rows[-limit:] if limit else rows
    if as_json:
        from wave_sandbox.cli.json_output import print_json

        print_json(rows)
    elif not rows:
        typer.echo("No runs yet." if not (pipeline or status) else "No runs match.")
    else:
        typer.echo(format_table([table_cells(row) for row in rows]))


def run_row(recorded, state) -> dict:
    return {
        "run_id": recorded.run_id, "pipeline": recorded.pipeline, "status": str(state.status),
        "reason": state.reason, "started_at": recorded.started_at, "duration_ms": recorded.duration_ms,
        "model": recorded.model, "cost_usd": recorded.cost_usd, "branch": recorded.branch, "input": recorded.input,
    }  # fmt: skip


def table_cells(row: dict) -> tuple[str, ...]:
    status = row["status"] + (f" ({row['reason']})" if row["reason"] else "")
    return (row["run_id"], row["pipeline"], status, local_time(row["started_at"]), format_duration(row["duration_ms"]),
            short_model(row["model"]), format_cost(row["cost_usd"]), row["branch"] or "")


def local_time(moment: str | None) -> str:
    try:
        return datetime.fromisoformat(moment).astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""
    except ValueError:
        return ""


def short_model(spec: str | None) -> str:
    """`claude-sonnet-4-5` for `anthropic:claude-sonnet-4-5`; `scripted` for a script's path."""
    kind, _, rest = (spec or "").partition(":")
    return kind if kind in ("scripted", "mock") else (rest or kind)


def format_table(rows: list[tuple[str, ...]]) -> str:
    """A header and aligned columns (the last one unpadded); every cell through the sanitizer."""
    cells = [COLUMNS, *[tuple(printable_inline(cell) for cell in row) for row in rows]]
    widths = [max(len(row[column]) for row in cells) for column in range(len(COLUMNS) - 1)]
    return "\n".join("  ".join([*(cell.ljust(width) for cell, width in zip(row, widths)), row[-1]]).rstrip()
                     for row in cells)
