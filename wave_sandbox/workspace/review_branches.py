"""The review branches (`refs/heads/wave/<pipeline>/<run-id>`) in the user's repository, and their removal.

Read and deleted with the hardened git of the branch code; a branch is deleted only at the tip it was
seen at (`update-ref -d REF OLD`), so a branch that moved in between is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wave_sandbox.errors import WorkspaceError
from wave_sandbox.workspace.repository import run_git

REVIEW_REFS = "refs/heads/wave/"


@dataclass(frozen=True)
class ReviewBranch:
    name: str
    """wave/<pipeline>/<run-id>"""
    tip: str
    committed_at: int
    """The tip's committer time (Unix seconds)."""

    @property
    def run_id(self) -> str:
        return self.name.rsplit("/", 1)[-1]


def review_branches(repo: Path) -> list[ReviewBranch]:
    listed = run_git(repo, "for-each-ref", "--format=%(refname)%00%(objectname)%00%(committerdate:unix)", REVIEW_REFS)
    branches = []
    for line in listed.splitlines():
        ref, tip, when = line.split("\0")
        branches.append(ReviewBranch(ref.removeprefix("refs/heads/"), tip, int(when or 0)))
    return branches


def checked_out_branches(repo: Path) -> set[str]:
    """The branches checked out in the repository's worktrees (its own and every `git worktree add`)."""
    listed = run_git(repo, "worktree", "list", "--porcelain", "-z", check=False)
    refs = (item.removeprefix("branch ") for item in listed.split("\0") if item.startswith("branch "))
    found = {ref.removeprefix("refs/heads/") for ref in refs if ref.startswith("refs/heads/")}
    head = run_git(repo, "symbolic-ref", "--quiet", "HEAD", check=False).strip()
    return found | ({head.removeprefix("refs/heads/")} if head.startswith("refs/heads/") else set())


def is_merged(repo: Path, branch: ReviewBranch) -> bool:
    """Its tip is contained in HEAD or in a local branch that is not a review branch."""
    if _is_ancestor(repo, branch.tip, "HEAD"):
        return True
    holders = run_git(repo, "for-each-ref", "--format=%(refname)", "--contains", branch.tip, "refs/heads/")
    return any(not ref.startswith(REVIEW_REFS) for ref in holders.splitlines())


def delete_branch(repo: Path, branch: ReviewBranch) -> None:
    run_git(repo, "update-ref", "-d", f"refs/heads/{branch.name}", branch.tip)


def _is_ancestor(repo: Path, commit: str, of: str) -> bool:
    try:
        run_git(repo, "merge-base", "--is-ancestor", commit, of)
    except WorkspaceError:  # exit 1: not an ancestor (or no HEAD yet)
        return False
    return True
