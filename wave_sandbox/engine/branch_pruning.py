"""`clean --branches`: remove the review branches of finished runs, never one a live run is writing,
never the checked-out branch, and never an unmerged one unless forced."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from wave_sandbox.engine.records import RunRecord
from wave_sandbox.workspace.review_branches import (
    ReviewBranch,
    checked_out_branch,
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

    def summary(self) -> str:
        parts = [f"removed {len(self.removed)} review branch(es)"]
        if self.unmerged:
            parts.append(f"kept {len(self.unmerged)} unmerged (add --force to remove them)")
        if self.recent:
            parts.append(f"kept {len(self.recent)} newer than --older-than")
        if self.live:
            parts.append(f"kept {len(self.live)} of live runs")
        if self.checked_out:
            parts.append(f"kept {self.checked_out[0]}: it is checked out")
        return "; ".join(parts)


def prune_review_branches(
    repo: Path, is_run_alive: Callable[[str], bool], older_than_s: int | None = None, force: bool = False
) -> PruneReport:
    report, current = PruneReport(), checked_out_branch(repo)
    for branch in review_branches(repo):
        if is_run_alive(branch.run_id):
            report.live.append(branch.name)
        elif branch.name == current:
            report.checked_out.append(branch.name)
        elif older_than_s is not None and time.time() - _finished_at(repo, branch) < older_than_s:
            report.recent.append(branch.name)
        elif not force and not is_merged(repo, branch):
            report.unmerged.append(branch.name)
        else:
            delete_branch(repo, branch)
            report.removed.append(branch.name)
    return report


def _finished_at(repo: Path, branch: ReviewBranch) -> float:
    """When the branch's run ended, from its record; else when its tip was committed."""
    try:
        finished = RunRecord.load(repo, branch.run_id).run_file.finished_at
    except (OSError, ValueError):
        finished = None
    if finished:
        try:
            return datetime.fromisoformat(finished).timestamp()
        except ValueError:
            pass
    return float(branch.committed_at)
