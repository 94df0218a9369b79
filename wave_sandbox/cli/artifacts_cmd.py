"""`wave-sandbox artifacts RUN`: the artifacts a run collected, as paths in its record."""

from __future__ import annotations

from pathlib import Path

import typer

from wave_sandbox.text_safety import printable_inline


def artifacts_command(
    run: str = typer.Argument(..., help="Run id, a unique prefix of it, or 'latest'."),
    repo: Path = typer.Option(Path("."), "--repo", help="The repository (default: cwd)."),
) -> None:
    """List the artifacts of a run (one path per line)."""
    # Imported when the command runs: run records load the run.json model, which `--help` need not pay for.
    from wave_sandbox.engine.run_lookup import find_run

    record = find_run(repo.resolve(), run)
    for step_id in record.run_file.steps:
        folder = record.folder / "steps" / step_id / "artifacts"
        if folder.is_dir():
            for artifact in sorted(folder.iterdir()):
                typer.echo(f"{printable_inline(step_id)}\t{printable_inline(str(artifact))}")
