"""`wave-sandbox review RUN`: the review branch's diffstat, the reviewer's warnings and the diff."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from wave_sandbox.text_safety import printable_text


def review_command(
    run: str = typer.Argument(..., help="Run id, a unique prefix of it, or 'latest'."),
    repo: Path = typer.Option(Path("."), "--repo", help="The repository (default: cwd)."),
    stat: bool = typer.Option(False, "--stat", help="Only the diffstat and the warnings, not the diff."),
    pager: bool = typer.Option(True, "--pager/--no-pager", help="Page the output on a terminal."),
) -> None:
    """Show what a run's review branch changes, before you check it out or merge it."""
    from wave_sandbox.cli.render import format_review_warning
    from wave_sandbox.cli.review_hint import review_commands
    from wave_sandbox.engine.run_lookup import find_run
    from wave_sandbox.errors import ConfigurationError
    from wave_sandbox.workspace.acting_files import ActingFile
    from wave_sandbox.workspace.review_diff import read_branch_diff

    recorded = find_run(repo.resolve(), run).run_file
    if not recorded.branch:
        raise ConfigurationError(f"run {recorded.run_id} has no review branch (no step changed the repository)")
    diff = read_branch_diff(repo.resolve(), recorded.branch, recorded.base_commit)
    acting = [ActingFile(str(item.get("path", "")), str(item.get("reason", ""))) for item in recorded.acting_files]
    commit_word = "commit" if diff.commits == 1 else "commits"
    lines = [f"Branch {diff.branch}: {diff.commits} {commit_word} since {diff.base[:12]} (run {recorded.run_id})", "",
             diff.stat.rstrip(), ""]
    warning = format_review_warning(diff.branch, acting)
    lines += [*warning, ""] if warning else []
    lines += review_commands(diff.branch, recorded.run_id, repo) if stat else [diff.diff]
    # The diff is the agents' work: every control character is shown as an escape, never sent to the terminal.
    shown = printable_text("\n".join(lines).rstrip() + "\n")
    if pager and sys.stdout.isatty():
        import pydoc  # the user's $PAGER, else less

        pydoc.pager(shown)
    else:
        sys.stdout.write(shown)
