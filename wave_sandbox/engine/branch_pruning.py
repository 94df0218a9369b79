"""`clean --branches`: remove the review branches of finished runs, never one a live run is writing,
never a branch checked out in any worktree, never one no run record names as its branch (a user's own
`wave/…` branch), never one whose tip moved past the run's last commit and is unmerged (work added to
it after the run), and never an unmerged one unless forced."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from wave_sandbox.engine.records import RunRecord
from wave_sandbox.engine.run_file import RunFile
from wave_sandbox.engine.run_ids import is_run_id
from wave_sandbox.workspace.review_branches import (
    ReviewBranch,
    checked_out_branches,
    delete_branch,
    is_merged,
    review_branches,
)


@dataclass
class PruneReport:
    removed: list[str] = field(default_factory=list)
    unmerged: list[str] = field(default_factory=list)
    live: list[str] = field(default_factory=list)
    recent: list[str] = field(default_factory=list)
    checked_out: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"removed {len(self.removed)} review branch(es)"]
        if self.unmerged:
            parts.append(f"kept {len(self.unmerged)} unmerged (add --force to remove them)")
        if self.recent:
            parts.append(f"kept {len(self.recent)} newer than --older-than")
        if self.live:
            parts.append(f"kept {len(self.live)} of live runs")
        if self.checked_out:
            parts.append(f"kept {', '.join(self.checked_out)}: it is checked out")
        if self.foreign:
            parts.append(f"kept {len(self.foreign)} that no run record names (not made by a run)")
        if self.moved:
            parts.append(f"kept {len(self.moved)} unmerged with commits added after the run")
        return "; ".join(parts)


def prune_review_branches(
    repo: Path, is_run_alive: Callable[[str], bool], older_than_s: int | None = None, force: bool = False
) -> PruneReport:
    report, current = PruneReport(), checked_out_branches(repo)
    for branch in review_branches(repo):
        run = _run_of(repo, branch)
        if run is None:
            report.foreign.append(branch.name)
        elif is_run_alive(branch.run_id):
            report.live.append(branch.name)
        elif branch.name in current:
            report.checked_out.append(branch.name)
        elif older_than_s is not None and time.time() - _finished_at(run, branch) < older_than_s:
            report.recent.append(branch.name)
        elif is_merged(repo, branch):
            _remove(repo, branch, report)
        elif run.commits and branch.tip != run.commits[-1]:
            report.moved.append(branch.name)
        elif not force:
            report.unmerged.append(branch.name)
        else:
            _remove(repo, branch, report)
    return report


def _remove(repo: Path, branch: ReviewBranch, report: PruneReport) -> None:
    delete_branch(repo, branch)
    report.removed.append(branch.name)


def _run_of(repo: Path, branch: ReviewBranch) -> RunFile | None:
    """The record of the run that made the branch: its id ends the name and its run.json names the branch."""
    if not is_run_id(branch.run_id):
        return None
    try:
        run = RunRecord.load(repo, branch.run_id).run_file
    except Exception:  # no record, or one that does not read: not a branch this tool may remove
        return None
    return run if run.branch == branch.name else None


def _finished_at(run: RunFile, branch: ReviewBranch) -> float:
    """When the branch's run ended, from its record; else when its tip was committed."""
    finished = run.finished_at
    if finished:
        try:
            return datetime.fromisoformat(finished).timestamp()
        except ValueError:
            pass
    return float(branch.committed_at)
