"""subset_from copies only acceptable listed files, on the host (issue 11, item 6). The list is an agent's
output: each hostile entry is refused with its reason, and the copy holds nothing else."""

from __future__ import annotations

import json
import os

import pytest

from wave_sandbox.errors import WorkspaceError
from wave_sandbox.spec.models import Mount
from wave_sandbox.workspace import subset_mount
from wave_sandbox.workspace.secrets import secret_patterns
from wave_sandbox.workspace.subset_mount import copy_subset, read_path_list, subset_bind_mount


@pytest.fixture
def source(tmp_path):
    repo = tmp_path / "repo"
    (repo / "lib").mkdir(parents=True)
    (repo / "app.py").write_text("app\n")
    (repo / "lib" / "util.py").write_text("util\n")
    (repo / ".env").write_text("SECRET=1\n")
    (repo / ".git").mkdir()
    (repo / ".git" / "config").write_text("[core]\n")
    (tmp_path / "outside.txt").write_text("outside\n")
    os.symlink(tmp_path / "outside.txt", repo / "link.py")
    os.symlink(tmp_path, repo / "linked-dir")
    os.mkfifo(repo / "pipe")
    return repo


def copied_files(folder):
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def test_only_plain_files_inside_the_source_are_copied(source, tmp_path):
    entries = ["app.py", "./lib/util.py", "../outside.txt", "/etc/hostname", "link.py", "linked-dir/outside.txt",
               ".git/config", "lib/../.git/config", ".env", "pipe", "lib", "missing.py", ".wave/runs/r/run.json"]
    copy = copy_subset(source, entries, tmp_path / "subset", secret_patterns(source))
    assert copied_files(tmp_path / "subset") == ["app.py", "lib/util.py"]
    reasons = dict(refusal.split(" refused: ") for refusal in copy.refused)
    assert reasons == {
        "'../outside.txt'": "holds '..'", "'/etc/hostname'": "not a path relative to the mount",
        "'link.py'": "is or passes through a symbolic link", "'linked-dir/outside.txt'": "is or passes through a symbolic link",
        "'.git/config'": "lies in .git or .wave/runs", "'lib/../.git/config'": "holds '..'",
        "'.env'": "matches a secret mask", "'pipe'": "not a regular file", "'lib'": "not a regular file",
        "'.wave/runs/r/run.json'": "lies in .git or .wave/runs",
    }


def test_count_and_size_caps_fail_the_step(source, tmp_path, monkeypatch):
    listing = tmp_path / "list.json"
    listing.write_text(json.dumps({"files": ["app.py"] * 3}))
    monkeypatch.setattr(subset_mount, "MAX_SUBSET_FILES", 2)
    with pytest.raises(WorkspaceError, match="lists 3 files, more than 2"):
        read_path_list(listing, "files", "s.a.files")
    monkeypatch.setattr(subset_mount, "MAX_SUBSET_BYTES", 6)
    with pytest.raises(WorkspaceError, match="more than 6 bytes"):
        copy_subset(source, ["app.py", "lib/util.py"], tmp_path / "subset", ())


@pytest.mark.parametrize("content, message", [
    ("not json", "not JSON"), ('{"files": "app.py"}', "expected a list of file paths"),
    ('{"other": []}', "has nothing at 'files'"), ('{"files": [1]}', "expected a list of file paths"),
])
def test_a_malformed_list_fails_the_step(tmp_path, content, message):
    listing = tmp_path / "list.json"
    listing.write_text(content)
    with pytest.raises(WorkspaceError, match=message):
        read_path_list(listing, "files", "s.a.files")


def test_the_mount_becomes_a_read_only_copy_or_the_whole_source_without_the_artifact(source, tmp_path):
    listing = tmp_path / "list.json"
    listing.write_text(json.dumps({"pr": {"changed_files": ["app.py", "link.py"]}}))
    mount = Mount(source="./", target="/src", mode="readwrite", subset_from="fetch.pr.pr.changed_files")
    refusals: list[str] = []
    bound = subset_bind_mount(mount, source, tmp_path / "record", "review", 0, lambda s, a: listing, refusals)
    assert bound.read_only and bound.target == "/src" and copied_files(bound.source) == ["app.py"]
    assert refusals == ["subset_from fetch.pr.pr.changed_files: 'link.py' refused: is or passes through a symbolic link"]
    notes: list[str] = []
    whole = subset_bind_mount(mount, source, tmp_path / "record", "review", 1, lambda s, a: None, notes)
    assert whole.source == source.resolve()
    assert notes == ["subset_from fetch.pr.pr.changed_files: no such artifact in this run; "
                     "the whole of ./ is mounted at /src, as Wave does"]
