"""Wave's `.agents/output/` (and `.agents/artifacts/`) in the clone are collected as artifacts, never
committed: new files there are left out, a tracked one keeps its base version (issue 11, item 6)."""

from __future__ import annotations

import pytest

from tests.unit.workspace.helpers import git
from wave_sandbox.workspace.branch import RunBranch
from wave_sandbox.workspace.clone import create_clone, remove_clone

RUN_ID = "20260101-000000-abcd"
BRANCH = f"wave/wave-shape/{RUN_ID}"


@pytest.fixture
def user_repo(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "app.py").write_text("x = 1\n")
    (repo / ".agents" / "output").mkdir(parents=True)
    (repo / ".agents" / "output" / "tracked.json").write_text("{}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    return repo


@pytest.fixture
def clone(user_repo, tmp_path):
    made = create_clone(user_repo, tmp_path / "records" / "clone")
    yield made
    remove_clone(made)


def test_agents_output_and_artifacts_never_reach_the_branch(user_repo, clone):
    branch = RunBranch(user_repo, clone, "wave-shape", RUN_ID, mock=True)
    (clone.path / "app.py").write_text("x = 2\n")
    (clone.path / ".agents" / "output" / "new.json").write_text("{}\n")
    (clone.path / ".agents" / "output" / "tracked.json").write_text('{"changed": true}\n')
    (clone.path / ".agents" / "artifacts").mkdir()
    (clone.path / ".agents" / "artifacts" / "injected").write_text("copy\n")
    result = branch.commit_step("fix", "craftsman", "Fix")
    assert result.changed_paths == ["app.py"]
    assert git(user_repo, "show", f"{BRANCH}:.agents/output/tracked.json") == "{}\n"
    assert "Wave-Model: mock" in git(user_repo, "log", "-1", "--format=%B", BRANCH)


def test_deleting_agents_output_is_not_committed_either(user_repo, clone):
    branch = RunBranch(user_repo, clone, "wave-shape", RUN_ID)
    (clone.path / ".agents" / "output" / "tracked.json").unlink()
    (clone.path / "app.py").write_text("x = 3\n")
    result = branch.commit_step("fix", "craftsman", "Fix")
    assert result.changed_paths == ["app.py"]
    assert "Wave-Model" not in git(user_repo, "log", "-1", "--format=%B", BRANCH)
