"""`wave-sandbox artifacts RUN`: the artifacts a run collected, as paths in its record; `--export DIR`
copies them into DIR with the same rules as `run --output` (so an earlier run's replaced files come back)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from wave_sandbox.text_safety import printable_inline
from wave_sandbox.workspace.repository_root import repository_root


def artifacts_command(
    run: str = typer.Argument(..., help="Run id, a unique prefix of it, or 'latest'."),
    repo: Path = typer.Option(Path("."), "--repo", help="The repository (default: the one holding the cwd)."),
    export: Optional[Path] = typer.Option(
        None, "--export", metavar="DIR",
        help="Copy the run's artifacts into DIR (new, empty, or holding only a run's delivered artifacts).",
    ),
    as_json: bool = typer.Option(False, "--json", help="A JSON list of the artifacts instead of the table."),
) -> None:
    """List the artifacts of a run with their sizes and where they were delivered, or copy them into a folder."""
    # Imported when the command runs: run records load the run.json model, which `--help` need not pay for.
    from wave_sandbox.engine.run_lookup import find_run

    record = find_run(repository_root(repo), run)
    collected = recorded_artifacts(record)
    if export is not None:
        export_artifacts(record, collected, export)
        return
    rows = [artifact_row(record, step_id, artifact) for step_id, artifact in collected]
    if as_json:
        from wave_sandbox.cli.json_output import print_json

        print_json(rows)
        return
    for row in rows:  # step, size, where it was delivered (or -), the copy in the record
        cells = (row["step_id"], str(row["size"]), row["delivered"] or "-", row["record_path"])
        typer.echo("\t".join(printable_inline(cell) for cell in cells))


def artifact_row(record, step_id: str, artifact: Path) -> dict:
    """One artifact: its step, name, size in bytes, the path the run delivered it to, its copy in the record."""
    delivered = next((path for path in record.run_file.steps[step_id].artifacts
                      if Path(path).name == artifact.name), None)
    return {"step_id": step_id, "name": artifact.name, "size": artifact.stat().st_size, "delivered": delivered,
            "record_path": str(artifact)}


def recorded_artifacts(record) -> list[tuple[str, Path]]:
    """(step id, file in the record) for every artifact the run's steps collected."""
    return [(step_id, artifact) for step_id in record.run_file.steps for artifact in record.collected_artifacts(step_id)]


def export_artifacts(record, collected: list[tuple[str, Path]], export: Path) -> None:
    """Deliver the record's artifacts into `export` as the run itself would have (manifest included)."""
    from wave_sandbox.cli.run_cmd import notify
    from wave_sandbox.engine.output_folder import OutputFolder

    folder = OutputFolder(export.expanduser().resolve(), record.repo, str(export), option="--export")
    folder.check(record.run_id)
    try:
        folder.prepare(record, notify)
        for _, artifact in collected:
            folder.deliver(artifact.name, artifact.read_bytes())
    finally:
        folder.release()
    typer.echo(printable_inline(f"Exported {len(collected)} artifact(s) of run {record.run_id} to {export}"))
