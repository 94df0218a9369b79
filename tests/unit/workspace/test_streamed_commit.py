"""The streamed commit (fast-import), the acting-files list it carries, and host git that runs no driver
from the repository's own config (real git in temp folders, no Docker)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from wave_sandbox.workspace.acting_files import acting_reason
from wave_sandbox.workspace.branch import RunBranch
from wave_sandbox.workspace.commit_message import commit_summary
from wave_sandbox.workspace.clone import create_clone
from wave_sandbox.workspace.repository import run_git, uncommitted_changes

from tests.unit.workspace.helpers import git, make_repository, tree_listing

ODD_TRACKED_NAME = 'we"ird\\name é*?'


@pytest.fixture
def user_repo(tmp_path) -> Path:
    return make_repository(tmp_path / "service", {
        "app.py": "print('hi')\n", "lib/util.py": "x = 1\n", "docs": "a file, to become a folder\n",
        ODD_TRACKED_NAME: "the user's odd name\n",
    })


@pytest.fixture
def branch(user_repo, tmp_path) -> RunBranch:
    return RunBranch(user_repo, create_clone(user_repo, tmp_path / "records" / "clone"), "p", "run1")


def test_a_file_becomes_a_folder_and_a_folder_a_file(branch):
    root = branch.clone.path
    (root / "docs").unlink()
    (root / "docs").mkdir()
    (root / "docs" / "guide.md").write_text("guide\n")
    (root / "lib" / "util.py").unlink()
    (root / "lib").rmdir()
    (root / "lib").write_text("now a file\n")
    branch.commit_step("fix", "craftsman", "Reshape")
    listing = tree_listing(branch.repo, branch.name)
    assert {"docs/guide.md", "lib"} <= set(listing) and not {"docs", "lib/util.py"} & set(listing)
    assert git(branch.repo, "show", f"{branch.name}:lib") == "now a file\n"


def test_an_odd_name_the_user_committed_is_edited_through_quoting(branch):
    (branch.clone.path / ODD_TRACKED_NAME).write_text("edited\n")
    result = branch.commit_step("fix", "craftsman", "Edit")
    assert result.changed_paths == [ODD_TRACKED_NAME]
    assert git(branch.repo, "show", f"{branch.name}:{ODD_TRACKED_NAME}") == "edited\n"
    assert git(branch.repo, "fsck", "--strict", "--no-progress") == ""


def test_the_commit_body_and_the_branch_list_the_acting_files(branch):
    root = branch.clone.path
    (root / ".envrc").write_text("echo hi\n")
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o755)
    (root / "notes.md").write_text("plain\n")
    (root / "app.py").unlink()
    result = branch.commit_step("fix", "craftsman", "Hooks")
    assert [acting.path for acting in result.acting_files] == [".envrc", "run.sh"]
    assert [acting.path for acting in branch.acting_files] == [".envrc", "run.sh"]
    body = git(branch.repo, "log", "-1", "--format=%b", branch.name)
    assert "  .envrc (editor or shell hook" in body and "  run.sh (executable)" in body
    assert "notes.md" not in body and "app.py" not in body


def test_the_branch_list_spans_every_commit_of_the_run(branch):
    (branch.clone.path / "Makefile").write_text("all:\n")
    branch.commit_step("one", "craftsman", "Make")
    (branch.clone.path / "conftest.py").write_text("import os\n")
    second = branch.commit_step("two", "craftsman", "Conftest")
    assert [acting.path for acting in second.acting_files] == ["conftest.py"]
    assert [acting.path for acting in branch.acting_files] == ["Makefile", "conftest.py"]
    assert branch.files_changed == 2


@pytest.mark.parametrize("path, mode, acts", [
    (".github/workflows/ci.yml", 0o100644, True), ("sub/.vscode/settings.json", 0o100644, True),
    ("pkg/conftest.py", 0o100644, True), ("package.json", 0o100644, True), ("Dockerfile", 0o100644, True),
    ("bin/tool", 0o100755, True), ("src/app.py", 0o100644, False), ("README.md", 0o100644, False),
    ("github/workflows.md", 0o100644, False),
])
def test_acting_reasons(path, mode, acts):
    assert (acting_reason(path, mode) is not None) == acts


def test_bidi_and_zero_width_characters_of_a_summary_become_escapes():
    subject = commit_summary("Fixed \u202eexe.pdf\u202c and\u200b more\x1b[2J")
    assert subject == "Fixed \\u202eexe.pdf\\u202c and\\u200b more\\x1b[2J"


def plant_drivers(repo: Path, markers: Path) -> None:
    """Filter drivers in the repository's own config, through an include, for every file."""
    (repo / ".gitattributes").write_text("* filter=evil\n*.md filter=evil.proc\n")
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-q", "-m", "attributes")
    (repo / ".git" / "drivers.inc").write_text(
        f'[filter "evil"]\n\tclean = touch {markers}/clean; cat\n\tsmudge = touch {markers}/smudge; cat\n'
        f"\trequired = true\n"
        f'[filter "evil.proc"]\n\tprocess = touch {markers}/process\n\trequired = true\n'
    )
    git(repo, "config", "include.path", "drivers.inc")
    for path in repo.iterdir():
        if path.is_file():
            os.utime(path, (1_000_000_000, 1_000_000_000))  # stale in the index: status must read them


def test_no_filter_driver_of_the_repository_runs_for_status_clone_or_commit(tmp_path):
    repo = make_repository(tmp_path / "service", {"app.py": "x\n", "notes.md": "n\n"})
    markers = tmp_path / "markers"
    markers.mkdir()
    plant_drivers(repo, markers)
    assert uncommitted_changes(repo) == []
    clone = create_clone(repo, tmp_path / "records" / "clone")
    (clone.path / "app.py").write_text("y\n")
    RunBranch(repo, clone, "p", "run1").commit_step("fix", "craftsman", "Edit")
    assert run_git(repo, "check-attr", "filter", "--", "app.py").strip() == "app.py: filter: evil"
    assert list(markers.iterdir()) == []
    # the same repository under plain git runs them (and dies: `touch` speaks no filter protocol)
    subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, check=False)
    assert {path.name for path in markers.iterdir()} & {"clean", "process"}
