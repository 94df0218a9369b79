"""`wave-sandbox clean`: remove what runs that are no longer alive left behind."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from wave_sandbox.errors import ConfigurationError
from wave_sandbox.text_safety import printable_inline
from wave_sandbox.workspace.repository_root import repository_root



def clean_command(
    repo: Path = typer.Option(Path("."), "--repo", help="Also remove leftover clones of this repository's runs."),
    branches: bool = typer.Option(
        False, "--branches", help="Also remove the review branches (wave/…) of finished runs that are merged."
    ),
    older_than: Optional[str] = typer.Option(
        None, "--older-than", metavar="AGE", help="With --branches: only runs that ended longer ago (7d, 12h, 30m)."
    ),
    force: bool = typer.Option(False, "--force", help="With --branches: remove unmerged review branches too."),
) -> None:
    """Remove containers, volumes, gateway sockets and clones of runs that are not alive."""
    if (older_than or force) and not branches:
        raise ConfigurationError("--older-than and --force apply to --branches; add --branches")
    older_than_s = read_age(older_than)
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
    if branches:
        prune_branches(repo.resolve(), older_than_s, force)


def read_age(older_than: Optional[str]) -> int | None:
    from wave_sandbox.units import parse_duration

    try:
        return parse_duration(older_than) if older_than else None
    except ValueError as error:
        raise ConfigurationError(f"--older-than: {error}") from error


def prune_branches(repo: Path, older_than_s: int | None, force: bool) -> None:
    from wave_sandbox.engine.branch_pruning import prune_review_branches
    from wave_sandbox.engine.liveness import is_run_alive

    pruned = prune_review_branches(repo, is_run_alive, older_than_s, force)
    for name in pruned.removed:
        typer.echo(f"removed {printable_inline(name)}")
    typer.echo(f"Branches: {printable_inline(pruned.summary())}.")
