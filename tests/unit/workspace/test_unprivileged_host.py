"""When wave-sandbox runs as an ordinary user, the container runs as that same uid and can make its
folders unreadable to the host: such folders must be refused (never read as deletions) and the
clone must still be removed. Run as root, these tests drop to `nobody` with setpriv."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from tests.unit.workspace.helpers import make_repository

NOBODY = 65534


@pytest.fixture
def host_folder():
    """A folder the unprivileged host user owns (outside pytest's root-only temp folder)."""
    folder = Path(tempfile.mkdtemp(prefix="wave-unprivileged-"))
    if os.getuid() == 0:
        os.chown(folder, NOBODY, NOBODY)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def run_as_host_user(folder: Path, script: str) -> dict:
    """Run `script` as an unprivileged user; it prints one JSON object as its last line."""
    command = [sys.executable, "-c", textwrap.dedent(script), str(folder)]
    if os.getuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv to drop root")
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
        command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]
    environment = {**os.environ, "HOME": str(folder), "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    completed = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=60)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_an_unreadable_folder_is_refused_not_skipped(host_folder):
    result = run_as_host_user(host_folder, """
        import json, os, sys
        from pathlib import Path
        from wave_sandbox.workspace.tree_snapshot import snapshot_working_tree
        tree = Path(sys.argv[1]) / "tree"
        (tree / "locked").mkdir(parents=True)
        (tree / "locked" / "inside.txt").write_text("x")
        (tree / "open.txt").write_text("y")
        os.chmod(tree / "locked", 0)
        snapshot = snapshot_working_tree(tree, set())
        os.chmod(tree / "locked", 0o755)
        print(json.dumps({"files": sorted(snapshot.files), "refused": snapshot.refused}))
    """)
    assert result["files"] == ["open.txt"]
    assert "could not be" in result["refused"]["locked"]


def test_files_under_an_unreadable_folder_keep_their_base_version(host_folder):
    make_repository(host_folder / "repo", {"app.py": "a\n", "scripts/deploy.sh": "deploy\n"})
    result = run_as_host_user(host_folder, """
        import json, os, subprocess, sys
        from pathlib import Path
        from wave_sandbox.workspace.branch import RunBranch
        from wave_sandbox.workspace.clone import create_clone
        folder = Path(sys.argv[1])
        clone = create_clone(folder / "repo", folder / "records" / "clone")
        (clone.path / "app.py").write_text("b\\n")
        os.chmod(clone.path / "scripts", 0)
        commit = RunBranch(folder / "repo", clone, "p", "run1").commit_step("s", "craftsman", "Change")
        os.chmod(clone.path / "scripts", 0o755)
        listing = subprocess.run(["git", "-C", str(folder / "repo"), "ls-tree", "-r", "--name-only", "wave/p/run1"],
                                 capture_output=True, text=True, check=True).stdout.split()
        print(json.dumps({"changed": commit.changed_paths, "listing": listing, "refusals": commit.refusals}))
    """)
    assert result["changed"] == ["app.py"]
    assert "scripts/deploy.sh" in result["listing"]
    assert any("scripts" in refusal for refusal in result["refusals"])


def test_remove_clone_removes_folders_the_agent_locked(host_folder):
    make_repository(host_folder / "repo", {"app.py": "a\n"})
    result = run_as_host_user(host_folder, """
        import json, os, sys
        from pathlib import Path
        from wave_sandbox.workspace.clone import create_clone, remove_clone
        folder = Path(sys.argv[1])
        clone = create_clone(folder / "repo", folder / "records" / "clone")
        (clone.path / "locked" / "deeper").mkdir(parents=True)
        (clone.path / "locked" / "deeper" / "file").write_text("x")
        os.chmod(clone.path / "locked" / "deeper", 0)
        os.chmod(clone.path / "locked", 0o500)
        remove_clone(clone)
        print(json.dumps({"left": os.path.lexists(clone.path)}))
    """)
    assert result == {"left": False}


def test_an_unreadable_tree_root_fails_the_commit_instead_of_deleting_everything(host_folder):
    make_repository(host_folder / "repo", {"app.py": "a\n"})
    result = run_as_host_user(host_folder, """
        import json, os, subprocess, sys
        from pathlib import Path
        from wave_sandbox.errors import WorkspaceError
        from wave_sandbox.workspace.branch import RunBranch
        from wave_sandbox.workspace.clone import create_clone
        folder = Path(sys.argv[1])
        clone = create_clone(folder / "repo", folder / "records" / "clone")
        os.chmod(clone.path, 0o300)
        try:
            RunBranch(folder / "repo", clone, "p", "run1").commit_step("s", "craftsman", "Change")
            error = None
        except WorkspaceError as exc:
            error = str(exc)
        os.chmod(clone.path, 0o755)
        branches = subprocess.run(["git", "-C", str(folder / "repo"), "branch", "--list", "wave/*"],
                                  capture_output=True, text=True, check=True).stdout
        print(json.dumps({"error": error, "branches": branches}))
    """)
    assert "could not be read" in result["error"]
    assert result["branches"] == ""
