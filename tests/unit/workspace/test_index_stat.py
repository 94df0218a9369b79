"""The clone's index read as data (formats 2, 3, 4) and the commit that reads only files whose stat
changed: a change hidden behind the old size and mtime is still committed (real git, no Docker)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wave_sandbox.workspace import tree_snapshot
from wave_sandbox.workspace.branch import RunBranch
from wave_sandbox.workspace.clone import create_clone
from wave_sandbox.workspace.index_stat import read_index_entries, stat_key, unchanged_blob

from tests.unit.workspace.helpers import git, make_repository

FILES = {"app.py": "print('hi')\n", "lib/util.py": "x = 1\n", "lib/deep/a b.txt": "spaced\n",
         "naïve.md": "accent\n", "run.sh": "#!/bin/sh\n"}


def settle(clone) -> None:
    """Date the index a second later, as if written after the clock moved on: the files git wrote in
    the index's own clock tick are racy (not trusted) otherwise, and this tree is too small to leave
    any other. Nothing touches the tree in between."""
    index = clone.git_dir / "index"
    later = os.lstat(index).st_mtime_ns + 1_000_000_000
    os.utime(index, ns=(later, later))


@pytest.fixture
def clone(tmp_path):
    repo = make_repository(tmp_path / "service", FILES)
    made = create_clone(repo, tmp_path / "records" / "clone")
    settle(made)
    return made


def staged(clone_path: Path) -> dict[str, tuple[int, str]]:
    """path -> (mode, blob) as git itself lists the index."""
    listing = {}
    for line in git(clone_path, "-c", "core.quotePath=false", "ls-files", "--stage").splitlines():
        meta, path = line.split("\t", 1)
        mode, sha, _stage = meta.split()
        listing[path] = (int(mode, 8), sha)
    return listing


@pytest.mark.parametrize("version", [2, 3, 4])
def test_every_index_format_reads_as_git_lists_it(clone, version):
    git(clone.path, "update-index", "--index-version", str(version))
    settle(clone)
    entries = read_index_entries(clone.git_dir / "index")
    assert {path: (entry.mode, entry.sha) for path, entry in entries.items()} == staged(clone.path)
    for path, entry in entries.items():
        assert entry.stat_key == stat_key(os.lstat(clone.path / path)), path


def test_a_corrupt_or_missing_index_trusts_nothing(clone):
    index = clone.git_dir / "index"
    assert read_index_entries(index)
    data = bytearray(index.read_bytes())
    data[40] ^= 0xFF  # a byte of the first entry's stat data: the checksum no longer matches
    index.write_bytes(bytes(data))
    assert read_index_entries(index) == {}
    assert read_index_entries(clone.git_dir / "no-index") == {}


def test_an_entry_not_older_than_the_index_is_racy_and_not_trusted(clone):
    index = clone.git_dir / "index"
    entry_time = min(entry.stat_key[2:4] for entry in read_index_entries(index).values())
    os.utime(index, ns=(0, entry_time[0] * 1_000_000_000 + entry_time[1]))
    assert read_index_entries(index) == {}


def test_rewriting_a_file_with_its_old_size_and_mtime_is_still_seen(clone):
    """What an agent can do to hide a change: same length, mtime put back. The ctime moves anyway."""
    target = clone.path / "app.py"
    before = os.lstat(target)
    entries = read_index_entries(clone.git_dir / "index")
    assert unchanged_blob(entries, "app.py", before) == entries["app.py"].sha
    target.write_text("print('HI')\n")
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.lstat(target)
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert unchanged_blob(entries, "app.py", after) is None
    branch = RunBranch(clone.path.parent.parent / "service", clone, "p", "run1")
    result = branch.commit_step("fix", "craftsman", "Hidden edit")
    assert result.changed_paths == ["app.py"]
    assert git(branch.repo, "show", f"{branch.name}:app.py") == "print('HI')\n"


def test_a_file_swapped_for_another_inode_with_the_same_bytes_and_times_is_read(clone):
    target = clone.path / "lib" / "util.py"
    before = os.lstat(target)
    replacement = clone.path / "lib" / "util.tmp"
    replacement.write_text("y = 2\n")
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(replacement, target)
    entries = read_index_entries(clone.git_dir / "index")
    assert unchanged_blob(entries, "lib/util.py", os.lstat(target)) is None
    result = RunBranch(clone.path.parent.parent / "service", clone, "p", "run1").commit_step("s", "c", "Swap")
    assert result.changed_paths == ["lib/util.py"]


def test_untouched_files_are_not_opened(clone, monkeypatch):
    """Only the changed file is read; the others are taken on their stat alone."""
    (clone.path / "run.sh").write_text("#!/bin/sh\necho changed\n")
    opened = []
    original = tree_snapshot._HostileTreeWalker.take_regular_file

    def spy(walker, descriptor, relative, name):
        opened.append(relative)
        return original(walker, descriptor, relative, name)

    monkeypatch.setattr(tree_snapshot._HostileTreeWalker, "take_regular_file", spy)
    result = RunBranch(clone.path.parent.parent / "service", clone, "p", "run1").commit_step("s", "c", "Edit")
    assert opened == ["run.sh"] and result.changed_paths == ["run.sh"]


def test_a_second_step_still_sees_its_base_through_the_first_commit(clone):
    branch = RunBranch(clone.path.parent.parent / "service", clone, "p", "run1")
    (clone.path / "app.py").write_text("one\n")
    branch.commit_step("one", "craftsman", "First")
    (clone.path / "app.py").write_text("print('hi')\n")  # back to the clone's (and the index's) bytes
    second = branch.commit_step("two", "craftsman", "Second")
    assert second.changed_paths == ["app.py"]
    assert git(branch.repo, "show", f"{branch.name}:app.py") == "print('hi')\n"


@pytest.mark.skipif(os.getuid() != 0, reason="handing the tree to another user needs root")
def test_the_index_records_the_hand_over_to_the_containers_user(tmp_path):
    repo = make_repository(tmp_path / "service", FILES)
    clone = create_clone(repo, tmp_path / "records" / "clone", owner=(54321, 54321))
    assert git(clone.path, "-c", f"safe.directory={clone.path}", "fsck", "--no-progress") == ""
    entries = read_index_entries(clone.git_dir / "index")
    assert set(entries) == set(FILES)
    for path, entry in entries.items():
        info = os.lstat(clone.path / path)
        assert (info.st_uid, info.st_gid) == (54321, 54321)
        assert unchanged_blob(entries, path, info) == entry.sha, path
    assert os.lstat(clone.git_dir / "index").st_uid == 0
    (clone.path / "naïve.md").write_text("edited\n")
    result = RunBranch(repo, clone, "p", "run1").commit_step("s", "craftsman", "Edit")
    assert result.changed_paths == ["naïve.md"]
