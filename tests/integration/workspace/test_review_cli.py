"""`review` and `clean --branches` on real repositories with review branches and run records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import git, run_cli
from wave_sandbox.engine.liveness import RunLease

pytestmark = pytest.mark.docker  # `clean` also sweeps the Docker objects of dead runs


def commit_file(repo: Path, name: str, text: str, message: str) -> str:
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def record_run(repo: Path, run_id: str, branch: str | None, base: str, finished_at: str | None = None) -> None:
    folder = repo / ".wave" / "runs" / run_id
    folder.mkdir(parents=True)
    data = {"run_id": run_id, "pipeline": "p", "status": "completed", "branch": branch, "base_commit": base,
            "commits": [], "finished_at": finished_at or "2026-01-01T00:00:00+00:00"}
    (folder / "run.json").write_text(json.dumps(data))


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit_file(root, "app.py", "print('hi')\n", "initial")
    (root / ".wave").mkdir()
    (root / ".wave" / ".gitignore").write_text("*\n")
    return root


def review_branch(repo: Path, run_id: str, text: str, merge: bool = False) -> str:
    base = git(repo, "rev-parse", "HEAD").strip()
    branch = f"wave/p/{run_id}"
    git(repo, "switch", "-q", "-c", branch)
    commit_file(repo, f"{run_id}.txt", text, f"change of {run_id}")
    git(repo, "switch", "-q", "main")
    if merge:
        git(repo, "merge", "-q", "--ff-only", branch)
    record_run(repo, run_id, branch, base)
    return branch


def test_review_shows_control_characters_of_a_hostile_diff_as_escapes(repo):
    review_branch(repo, "20260101-000000-aaaa", "ok \x1b]52;c;ZXZpbA==\x07 \x1b[2J \u202eexe.sh\n")
    done = run_cli("review", "latest", "--repo", str(repo), cwd=repo)
    assert done.returncode == 0, done.stderr
    assert "+ok \\x1b]52;c;ZXZpbA==\\x07 \\x1b[2J \\u202eexe.sh" in done.stdout.splitlines()
    assert "\x1b" not in done.stdout and "\u202e" not in done.stdout


def test_review_of_a_run_without_a_branch_or_whose_branch_is_gone_says_so(repo):
    record_run(repo, "20260101-000000-bbbb", None, git(repo, "rev-parse", "HEAD").strip())
    done = run_cli("review", "latest", "--repo", str(repo), cwd=repo)
    assert done.returncode == 2 and done.stderr.strip() == (
        "Error: run 20260101-000000-bbbb has no review branch (no step changed the repository)")
    branch = review_branch(repo, "20260101-000000-cccc", "x\n")
    git(repo, "branch", "-D", branch)
    gone = run_cli("review", "20260101-000000-cccc", "--repo", str(repo), cwd=repo)
    assert gone.returncode == 2 and f"the review branch {branch} no longer exists" in gone.stderr


def branches(repo: Path) -> list[str]:
    return git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/wave/").split()


def test_clean_branches_removes_merged_ones_and_keeps_unmerged_live_and_checked_out(repo, tmp_path):
    merged = review_branch(repo, "20260101-000000-0001", "merged\n", merge=True)
    unmerged = review_branch(repo, "20260101-000000-0002", "unmerged\n")
    live = review_branch(repo, "20260101-000000-0003", "live\n", merge=True)
    with RunLease("20260101-000000-0003"):
        done = run_cli("clean", "--branches", "--repo", str(repo), cwd=repo)
    assert done.returncode == 0, done.stderr
    assert f"removed {merged}" in done.stdout.splitlines()
    assert "kept 1 unmerged (add --force to remove them)" in done.stdout and "kept 1 of live runs" in done.stdout
    assert branches(repo) == sorted([unmerged, live])
    git(repo, "switch", "-q", unmerged)
    forced = run_cli("clean", "--branches", "--force", "--repo", str(repo), cwd=repo)
    assert forced.returncode == 0 and branches(repo) == [unmerged]  # the checked-out one stays, forced or not
    assert f"kept {unmerged}: it is checked out" in forced.stdout


def test_clean_branches_older_than_keeps_recent_runs(repo):
    old = review_branch(repo, "20260101-000000-0004", "old\n", merge=True)
    recent = review_branch(repo, "20260101-000000-0005", "recent\n", merge=True)
    record = repo / ".wave" / "runs" / "20260101-000000-0005" / "run.json"
    data = json.loads(record.read_text())
    from datetime import datetime, timezone

    data["finished_at"] = datetime.now(timezone.utc).isoformat()
    record.write_text(json.dumps(data))
    done = run_cli("clean", "--branches", "--older-than", "7d", "--repo", str(repo), cwd=repo)
    assert done.returncode == 0, done.stderr
    assert branches(repo) == [recent] and f"removed {old}" in done.stdout
    assert "kept 1 newer than --older-than" in done.stdout


@pytest.mark.parametrize("arguments, message", [
    (["--older-than", "7d"], "Error: --older-than and --force apply to --branches; add --branches"),
    (["--branches", "--older-than", "soon"], "Error: --older-than: 'soon' is not a duration: write it as 90s, "
                                             "15m, 2h, 7d or a number of seconds"),
])
def test_clean_refuses_bad_branch_options_before_cleaning_anything(repo, arguments, message):
    merged = review_branch(repo, "20260101-000000-0006", "merged\n", merge=True)
    done = run_cli("clean", *arguments, "--repo", str(repo), cwd=repo)
    assert done.returncode == 2 and done.stderr.strip() == message and done.stdout == ""
    assert branches(repo) == [merged]


def test_clean_branches_forced_spares_wave_branches_no_run_made_and_ones_with_added_work(repo):
    """A user's own `wave/…` branch (no run record names it, or a record naming another branch) and a
    review branch the user committed to after the run stay, even with --force; a worktree's branch too."""
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "switch", "-q", "-c", "wave/my-feature")
    commit_file(repo, "mine.txt", "my work\n", "my own work")
    git(repo, "switch", "-q", "-c", "wave/p/20260101-000000-0009")  # shaped like a run's, no record
    git(repo, "switch", "-q", "main")
    record_run(repo, "20260101-000000-0008", "wave/other/20260101-000000-0008", base)
    git(repo, "branch", "wave/p/20260101-000000-0008")  # a record, but of another branch
    added = review_branch(repo, "20260101-000000-0007", "fix\n")
    run_tip = git(repo, "rev-parse", added).strip()
    record = repo / ".wave" / "runs" / "20260101-000000-0007" / "run.json"
    record.write_text(json.dumps({**json.loads(record.read_text()), "commits": [run_tip]}))
    git(repo, "switch", "-q", added)
    commit_file(repo, "later.txt", "work added after the run\n", "my follow-up")
    git(repo, "switch", "-q", "main")
    in_worktree = review_branch(repo, "20260101-000000-0006", "wt\n")
    git(repo, "worktree", "add", "-q", str(repo.parent / "wt"), in_worktree)
    before = branches(repo)
    forced = run_cli("clean", "--branches", "--force", "--repo", str(repo), cwd=repo)
    assert forced.returncode == 0, forced.stderr
    assert branches(repo) == before, forced.stdout
    assert "kept 3 that no run record names (not made by a run)" in forced.stdout
    assert "kept 1 unmerged with commits added after the run" in forced.stdout
    assert f"kept {in_worktree}: it is checked out" in forced.stdout


def test_a_record_whose_start_commit_reads_as_a_git_option_is_refused_in_one_line(repo, tmp_path):
    review_branch(repo, "20260101-000000-0010", "x\n")
    record = repo / ".wave" / "runs" / "20260101-000000-0010" / "run.json"
    target = tmp_path / "written-by-git"
    record.write_text(json.dumps({**json.loads(record.read_text()), "base_commit": f"--output={target}"}))
    done = run_cli("review", "latest", "--repo", str(repo), cwd=repo)
    assert done.returncode == 2 and done.stderr.startswith("Error: the run's record names no commit as its start "
                                                           "('--output=") and len(done.stderr.splitlines()) == 1
    assert not target.exists()
    report = run_cli("report", "latest", "--repo", str(repo), cwd=repo)
    assert report.returncode == 0 and not target.exists(), report.stderr
