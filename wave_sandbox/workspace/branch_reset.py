"""Put a resumed run's review branch back where its record says it stands.

A run killed between publishing a commit to the user's repository and recording it leaves the
branch one commit ahead of its record; `resume --from-step` drops the commits of the steps it runs
again. Either way the resumed run's new commits go on top of the recorded tip, and publishing them
is fast-forward only: so the branch (ours, named for the run) is first set to that tip, or deleted
when the record holds no commit.
"""

from __future__ import annotations

from pathlib import Path

from wave_sandbox.workspace.repository import run_git


def reset_run_branch(repo: Path, branch: str, recorded_tip: str | None) -> None:
    """Point `refs/heads/<branch>` at `recorded_tip`, or delete it when None; silent when absent."""
    ref = f"refs/heads/{branch}"
    exists = run_git(repo, "rev-parse", "--verify", "--quiet", ref, check=False).strip()
    if not exists or exists == recorded_tip:
        return
    if recorded_tip is None:
        run_git(repo, "update-ref", "-d", ref)
    else:
        run_git(repo, "update-ref", ref, recorded_tip)
