"""The commands to look at and take a run's review branch, printed after the closing lines (on stderr).

They are meant to be pasted: a repository other than the current directory's is named with `git -C`
and `--repo`, quoted for the shell.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path


def review_commands(branch: str, run_id: str, repo: Path, cwd: Path | None = None) -> list[str]:
    """How to see the diff, read it with the reviewer's warnings, try the branch, and merge it."""
    where = _repo_argument(repo.resolve(), (cwd or Path.cwd()).resolve())
    git = f"git -C {where}" if where else "git"
    wave = f"wave-sandbox review {run_id}" + (f" --repo {where}" if where else "")
    quoted = shlex.quote(branch)
    return [
        "To review the fix:",
        f"  {wave}",
        f"  {git} diff HEAD...{quoted}",
        "To take it:",
        f"  {git} switch {quoted}      # try it on its own branch",
        f"  {git} merge {quoted}       # or merge it into your current branch",
    ]


def _repo_argument(repo: Path, cwd: Path) -> str:
    """'' when the current directory is inside the repository, else its path as short as it can be."""
    if cwd == repo or repo in cwd.parents:
        return ""
    try:
        shown = os.path.relpath(repo, cwd)
    except ValueError:
        shown = str(repo)
    if shown.startswith("../../.."):
        shown = str(repo)
    return shlex.quote(shown)
