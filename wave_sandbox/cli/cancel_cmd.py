"""`wave-sandbox cancel RUN`: stop a live run as Ctrl-C would (finished steps' artifacts kept)."""

from __future__ import annotations

from pathlib import Path

import typer

from wave_sandbox.text_safety import printable_inline
from wave_sandbox.workspace.repository_root import repository_root


def cancel_command(
    run: str = typer.Argument(..., help="Run id, a unique prefix of it, or 'latest'."),
    repo: Path = typer.Option(Path("."), "--repo", help="The repository (default: the one holding the cwd)."),
    timeout: float = typer.Option(60.0, "--timeout", min=1, help="Seconds to wait for the run to stop."),
) -> None:
    """Stop a live run the way Ctrl-C does; it exits 130 and can be resumed."""
    from wave_sandbox.cli.resume_hint import resume_command_line
    from wave_sandbox.engine.cancel import cancel_run
    from wave_sandbox.engine.run_lookup import find_run

    record = find_run(repository_root(repo), run)
    state = cancel_run(record, timeout)
    typer.echo(printable_inline(f"Cancelled run {record.run_id}: {state.label}."))
    typer.echo(printable_inline(f"Resume with: {resume_command_line(record.run_id, record.repo)}"), err=True)
