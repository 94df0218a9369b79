"""`wave-sandbox status [RUN]`: the live runs (or one run), their current steps and elapsed time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from wave_sandbox.text_safety import json_printable, printable_inline
from wave_sandbox.workspace.repository_root import repository_root


def status_command(
    run: Optional[str] = typer.Argument(None, help="Run id, a unique prefix of it, or 'latest' (default: live runs)."),
    repo: Path = typer.Option(Path("."), "--repo", help="The repository (default: the one holding the cwd)."),
    json_output: bool = typer.Option(False, "--json", help="JSON: one object for RUN, else a list of live runs."),
) -> None:
    """Show the live runs with their current step and elapsed time, or one run's true status."""
    from wave_sandbox.engine.records import list_run_records
    from wave_sandbox.engine.run_lookup import find_run
    from wave_sandbox.engine.run_state import run_state

    if run is not None:
        recorded = find_run(repository_root(repo), run).run_file
        describe([(recorded, run_state(recorded))], json_output, single=True)
        return
    live = [(record.run_file, state) for record in list_run_records(repository_root(repo))
            if (state := run_state(record.run_file)).alive]
    describe(live, json_output, single=False)


def describe(runs: list, json_output: bool, single: bool) -> None:
    if json_output:
        objects = [status_object(recorded, state) for recorded, state in runs]
        typer.echo(json_printable(json.dumps(objects[0] if single else objects, ensure_ascii=False)))
        return
    if not runs:
        typer.echo("No live runs.")
    for recorded, state in runs:
        typer.echo(printable_inline(status_line(recorded, state)))


def status_object(recorded, state) -> dict:
    return {
        "run_id": recorded.run_id, "pipeline": recorded.pipeline, "status": str(state.status),
        "reason": state.reason, "alive": state.alive, "current_steps": state.current_steps,
        "elapsed_s": None if state.elapsed_s is None else round(state.elapsed_s, 1),
        "steps": {step_id: str(status) for step_id, status in state.step_statuses.items()},
    }  # fmt: skip


def status_line(recorded, state) -> str:
    line = f"{recorded.run_id}  {recorded.pipeline:<20} {state.label}"
    if state.alive:
        steps = ", ".join(state.current_steps) or "between steps"
        elapsed = "" if state.elapsed_s is None else f"  {round(state.elapsed_s)}s elapsed"
        line += f"  step: {steps}{elapsed}"
    return line
