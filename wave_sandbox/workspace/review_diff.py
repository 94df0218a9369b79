"""A run's review branch as the reviewer reads it: its diffstat and its diff against the run's start.

Read with the hardened git of the branch code (`repository.run_git`: no hooks, no external diff, no
textconv, filters blanked), so looking at a hostile branch runs nothing from it.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from wave_sandbox.errors import ConfigurationError, WorkspaceError
from wave_sandbox.workspace.repository import (
    HARDENING_OPTIONS,
    hardened_git_environment,
    run_git,
    without_filter_drivers,
)

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


def read_branch_diff(repo: Path, branch: str, base: str | None, max_diff_bytes: int | None = None) -> BranchDiff:
    """The branch against the commit its run started from (or its merge base with HEAD); with
    `max_diff_bytes`, the diff's first bytes past that many only (an agent's 2 GB file is not read)."""
    tip = branch_tip(repo, branch)
    if tip is None:
        raise ConfigurationError(f"the review branch {branch} no longer exists in {repo} (deleted or pruned)")
    if base is not None and not COMMIT_ID.match(base):  # read as a git option (`--output=FILE`) otherwise
        raise ConfigurationError(f"the run's record names no commit as its start ({base[:60]!r})")
    start = base or run_git(repo, "merge-base", "HEAD", tip).strip()
    commits = int(run_git(repo, "rev-list", "--count", f"{start}..{tip}").strip() or 0)
    stat = run_git(repo, "diff", *DIFF_OPTIONS, "--stat", start, tip)
    if max_diff_bytes is None:
        diff = run_git(repo, "diff", *DIFF_OPTIONS, start, tip)
    else:
        diff = _diff_head(repo, max_diff_bytes + 1, "diff", *DIFF_OPTIONS, start, tip)
    return BranchDiff(branch, start, tip, commits, stat, diff)


def _diff_head(repo: Path, max_bytes: int, *arguments: str) -> str:
    """The first `max_bytes` of a hardened git command's output; git is stopped once they are read."""
    environment = without_filter_drivers(repo, hardened_git_environment())
    command = ["git", *HARDENING_OPTIONS, "-C", str(repo), *arguments]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=environment) as git:
        head = git.stdout.read(max_bytes)
        cut = len(head) == max_bytes
        if cut:  # enough read: the rest is not wanted
            git.kill()
    if not cut and git.returncode != 0:
        raise WorkspaceError(f"git {' '.join(arguments)} failed in {repo} (exit {git.returncode})")
    return head.decode("utf-8", "surrogateescape")
