"""A run's review branch as the reviewer reads it: its diffstat and its diff against the run's start.

Read with the hardened git of the branch code (`repository.run_git`: no hooks, no external diff, no
textconv, filters blanked), so looking at a hostile branch runs nothing from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from wave_sandbox.errors import ConfigurationError
from wave_sandbox.workspace.repository import run_git

COMMIT_ID = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
DIFF_OPTIONS = ("--no-ext-diff", "--no-textconv", "--no-color", "--find-renames")


@dataclass(frozen=True)
class BranchDiff:
    branch: str
    base: str
    tip: str
    commits: int
    stat: str
    diff: str


def branch_tip(repo: Path, branch: str) -> str | None:
    found = run_git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}", check=False)
    return found.strip() or None


def read_branch_diff(repo: Path, branch: str, base: str | None) -> BranchDiff:
    """The branch against the commit its run started from (or its merge base with HEAD)."""
    tip = branch_tip(repo, branch)
    if tip is None:
        raise ConfigurationError(f"the review branch {branch} no longer exists in {repo} (deleted or pruned)")
    if base is not None and not COMMIT_ID.match(base):  # read as a git option (`--output=FILE`) otherwise
        raise ConfigurationError(f"the run's record names no commit as its start ({base[:60]!r})")
    start = base or run_git(repo, "merge-base", "HEAD", tip).strip()
    commits = int(run_git(repo, "rev-list", "--count", f"{start}..{tip}").strip() or 0)
    stat = run_git(repo, "diff", *DIFF_OPTIONS, "--stat", start, tip)
    diff = run_git(repo, "diff", *DIFF_OPTIONS, start, tip)
    return BranchDiff(branch, start, tip, commits, stat, diff)
