"""`wave-sandbox clean`: remove what runs that are no longer alive left behind."""

from __future__ import annotations

from pathlib import Path

import typer

from wave_sandbox.workspace.repository_root import repository_root


def clean_command(
    repo: Path = typer.Option(Path("."), "--repo", help="Also remove leftover clones of this repository's runs."),
) -> None:
    """Remove containers, networks, volumes, firewall rules and clones of runs that are not alive."""
    from wave_sandbox.engine.leftovers import remove_leftover_clones
    from wave_sandbox.engine.liveness import is_run_alive
    from wave_sandbox.sandbox.registry import get_backend

    repo = repository_root(repo)  # a wrong --repo is refused before anything is removed
    report = get_backend().clean_dead_runs()
    clones = remove_leftover_clones(repo, is_run_alive)
    typer.echo(f"Cleaned: {report.summary()}; {clones} leftover clone(s).")
    for problem in report.failures:
        typer.echo(f"warning: {problem}", err=True)
