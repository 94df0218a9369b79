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
    from wave_sandbox.engine.liveness import forget_kept, forget_lease, is_run_alive, kept_run_ids, stale_run_ids
    from wave_sandbox.sandbox.registry import get_backend

    repo = repository_root(repo)  # a wrong --repo is refused before anything is removed
    stale, kept = stale_run_ids(), kept_run_ids()
    report = get_backend().clean_dead_runs()  # --keep leftovers included: `clean` is what they wait for
    clones = remove_leftover_clones(repo, is_run_alive)
    forget_kept(kept - set(report.spared_runs))
    for run_id in stale if not report.failures else []:
        forget_lease(run_id)
    typer.echo(f"Cleaned: {report.summary()}; {clones} leftover clone(s).")
    for problem in report.failures:
        typer.echo(f"warning: {problem}", err=True)
