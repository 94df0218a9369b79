"""The clone's working tree read as hostile data: what may be committed and what is refused."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from wave_sandbox.workspace.tree_snapshot import (
    MODE_EXECUTABLE,
    MODE_FILE,
    MODE_SYMLINK,
    git_blob_sha,
    snapshot_working_tree,
)

from tests.unit.workspace.helpers import git, make_repository


def write(root: Path, relative: str, content: bytes | str = "x\n") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def snapshot(root: Path, submodules: set[str] | None = None, max_file_bytes: int = 1024):
    return snapshot_working_tree(root, submodules or set(), max_file_bytes=max_file_bytes)


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "clone"
    root.mkdir()
    return root


def test_regular_files_are_taken_with_their_content(tree):
    write(tree, "app.py", "print('hi')\n")
    write(tree, "pkg/deep/mod.py", b"\x00binary\xff")
    taken = snapshot(tree).files
    assert sorted(taken) == ["app.py", "pkg/deep/mod.py"]
    assert taken["app.py"].content == b"print('hi')\n" and taken["app.py"].mode == MODE_FILE
    assert taken["pkg/deep/mod.py"].content == b"\x00binary\xff"


def test_blob_ids_match_git(tree):
    path = write(tree, "a.txt", "same as git\n")
    expected = git(tree.parent, "hash-object", str(path)).strip()
    assert snapshot(tree).files["a.txt"].blob_sha == expected == git_blob_sha(b"same as git\n")


def test_executable_bit_is_kept(tree):
    write(tree, "run.sh", "#!/bin/sh\n").chmod(0o755)
    write(tree, "plain.sh", "#!/bin/sh\n").chmod(0o644)
    files = snapshot(tree).files
    assert files["run.sh"].mode == MODE_EXECUTABLE
    assert files["plain.sh"].mode == MODE_FILE


def test_executable_bit_follows_the_owner_bit_as_git_does(tree):
    write(tree, "group-only.sh").chmod(0o654)
    write(tree, "owner-only.sh").chmod(0o744)
    files = snapshot(tree).files
    assert files["group-only.sh"].mode == MODE_FILE
    assert files["owner-only.sh"].mode == MODE_EXECUTABLE


def test_symlink_inside_the_tree_is_kept_as_a_link(tree):
    write(tree, "docs/guide.md")
    os.symlink("docs/guide.md", tree / "guide")
    os.symlink("../docs", tree / "docs" / "self")  # a link to a folder inside the tree is not walked
    os.symlink("missing.md", tree / "dangling")
    result = snapshot(tree)
    assert result.files["guide"].mode == MODE_SYMLINK
    assert result.files["guide"].content == b"docs/guide.md"
    assert result.files["docs/self"].content == b"../docs"
    assert result.files["dangling"].content == b"missing.md"
    assert "docs/self/guide.md" not in result.files
    assert result.refused == {}


@pytest.mark.parametrize(
    ("link", "target"),
    [
        ("up", ".."),
        ("passwd", "../../../../etc/passwd"),
        ("sub/up2", "../.."),
        ("sub/sneaky", "ok/../../../x"),
        ("absolute", "/etc/passwd"),
        ("root", "/"),
    ],
)
def test_symlink_leaving_the_tree_is_refused(tree, link, target):
    (tree / "sub" / "ok").mkdir(parents=True)
    os.symlink(target, tree / link)
    result = snapshot(tree)
    assert link not in result.files
    assert "leaves the tree" in result.refused[link]


def test_symlink_escaping_through_another_link_is_refused(tree):
    """Each link stays inside when read alone; followed one after the other they leave the tree."""
    (tree / "sub").mkdir()
    os.symlink("..", tree / "sub" / "up")  # sub/up -> the tree's root: inside
    os.symlink("up/../..", tree / "sub" / "escape")  # lexically sub/up/../.. is the root, really its parent
    result = snapshot(tree)
    assert "sub/up" in result.files
    assert "sub/escape" not in result.files
    assert "leaves the tree" in result.refused["sub/escape"]


def test_symlink_into_a_git_folder_is_refused(tree):
    os.symlink(".git/hooks", tree / "hooks")
    os.symlink("sub/../.GIT", tree / "gitdir")
    result = snapshot(tree)
    assert not {"hooks", "gitdir"} & set(result.files)
    assert ".git" in result.refused["hooks"] and ".git" in result.refused["gitdir"]


def test_symlinked_git_dotfiles_are_refused(tree):
    write(tree, "attrs", "* text\n")
    os.symlink("attrs", tree / ".gitattributes")
    os.symlink("attrs", tree / ".gitmodules")
    result = snapshot(tree)
    assert ".gitattributes" in result.refused and ".gitmodules" in result.refused


@pytest.mark.parametrize("name", ["new\nline.txt", "tab\there.py", "esc\x1b[31m.md", "del\x7f.txt", "c1\x9b.txt"])
def test_names_with_control_characters_are_refused(tree, name):
    write(tree, f"dir/{name}")
    result = snapshot(tree)
    assert f"dir/{name}" not in result.files
    assert "control characters" in result.refused[f"dir/{name}"]


def test_a_name_that_is_not_utf8_is_refused(tree):
    raw = os.path.join(os.fsencode(tree), b"latin1-\xe9t\xe9.txt")
    with open(raw, "wb") as stream:
        stream.write(b"data")
    result = snapshot(tree)
    assert result.files == {}
    [(name, reason)] = result.refused.items()
    assert "UTF-8" in reason
    assert "\\udce9" in result.refusals[0] or "\\xe9" in result.refusals[0]


def test_a_fifo_is_refused_without_blocking(tree):
    os.mkfifo(tree / "pipe")
    result = snapshot(tree)
    assert "pipe" not in result.files
    assert "not a regular file" in result.refused["pipe"]


def test_a_socket_is_refused(tree):
    listener = socket.socket(socket.AF_UNIX)
    try:
        listener.bind(str(tree / "sock"))
        result = snapshot(tree)
    finally:
        listener.close()
    assert "not a regular file" in result.refused["sock"]


def test_a_file_over_the_size_limit_is_refused_and_one_at_the_limit_taken(tree):
    write(tree, "big.bin", b"\0" * 1025)
    write(tree, "fits.bin", b"\0" * 1024)
    result = snapshot(tree, max_file_bytes=1024)
    assert "fits.bin" in result.files
    assert "big.bin" not in result.files
    assert "1025 bytes is over the 1024-byte limit" in result.refused["big.bin"]


def test_a_huge_sparse_file_is_refused_without_being_read(tree):
    with open(tree / "sparse.bin", "wb") as stream:
        stream.truncate(50 * 1024**3)
    assert "over the" in snapshot(tree).refused["sparse.bin"]


def test_the_top_level_git_folder_is_skipped_silently(tree):
    write(tree, ".git/config", "[core]\n")
    write(tree, ".git/hooks/post-commit", "#!/bin/sh\n")
    result = snapshot(tree)
    assert result.files == {} and result.refused == {}


@pytest.mark.parametrize("folder", ["sub/.git", "sub/.GIT", "deep/er/.Git"])
def test_a_nested_git_folder_is_refused_and_not_walked(tree, folder):
    write(tree, f"{folder}/hooks/pre-commit", "#!/bin/sh\ntouch /tmp/owned\n")
    write(tree, f"{folder}/config", "[core]\n\tfsmonitor = touch /tmp/owned\n")
    result = snapshot(tree)
    assert not any(".git" in path.lower() for path in result.files)
    assert "nested .git" in result.refused[folder]
    assert not any(path.startswith(f"{folder}/") for path in result.refused)


@pytest.mark.parametrize("name", [".git", ".GIT", ".git.", ".git ", "git~1", ".g\u200cit"])
def test_files_named_like_git_metadata_are_refused(tree, name):
    write(tree, f"sub/{name}", "gitdir: /elsewhere\n")
    result = snapshot(tree)
    assert f"sub/{name}" not in result.files
    assert ".git" in result.refused[f"sub/{name}"]


@pytest.mark.parametrize("name", [".gitignore", ".gitattributes", ".github/workflows/ci.yml", "legit~1.txt", "digit"])
def test_ordinary_git_dotfiles_and_lookalike_names_are_taken(tree, name):
    write(tree, name)
    assert name in snapshot(tree).files


def test_an_untouched_submodule_folder_is_not_a_change(tree):
    (tree / "vendor" / "lib").mkdir(parents=True)
    result = snapshot(tree, submodules={"vendor/lib"})
    assert result.files == {} and result.refused == {}


def test_a_change_inside_a_submodule_is_refused(tree):
    write(tree, "vendor/lib/planted.c", "int x;\n")
    result = snapshot(tree, submodules={"vendor/lib"})
    assert result.files == {}
    assert "submodule" in result.refused["vendor/lib"]


def test_a_file_put_where_a_submodule_was_is_refused(tree):
    write(tree, "vendor/lib", "not a folder any more\n")
    result = snapshot(tree, submodules={"vendor/lib"})
    assert "vendor/lib" not in result.files
    assert "submodule" in result.refused["vendor/lib"]


def test_a_file_put_where_a_submodule_folder_parent_was_is_refused(tree):
    write(tree, "vendor", "a file over the submodule's parent folder\n")
    result = snapshot(tree, submodules={"vendor/lib"})
    assert "vendor" not in result.files
    assert "submodule" in result.refused["vendor"]




def test_refusals_name_each_path_and_reason(tree):
    os.symlink("/etc/passwd", tree / "passwd")
    write(tree, "big.bin", b"\0" * 2000)
    refusals = snapshot(tree).refusals
    assert any(line.startswith("'passwd': ") and "leaves the tree" in line for line in refusals)
    assert any(line.startswith("'big.bin': ") and "limit" in line for line in refusals)


def test_a_fresh_clone_of_a_repository_snapshots_to_its_files(tmp_path):
    repo = make_repository(tmp_path / "repo", {"a.txt": "a\n", "b/c.txt": "c\n"})
    result = snapshot(repo)
    assert sorted(result.files) == ["a.txt", "b/c.txt"]
    assert result.refused == {}


def base_of(root: Path, *paths: str, mode: int = MODE_FILE):
    from wave_sandbox.workspace.tree_snapshot import BaseBlob

    blobs = {}
    for relative in paths:
        path = root / relative
        content = os.fsencode(os.readlink(path)) if path.is_symlink() else path.read_bytes()
        blobs[relative] = BaseBlob(MODE_SYMLINK if path.is_symlink() else mode, git_blob_sha(content), len(content))
    return blobs


def test_an_unchanged_tracked_file_over_the_limit_is_taken_without_its_content(tree):
    write(tree, "data.bin", b"\1" * 5000)
    base = base_of(tree, "data.bin")
    result = snapshot_working_tree(tree, set(), max_file_bytes=1024, base=base)
    assert result.refused == {}
    assert result.files["data.bin"].content is None
    assert result.files["data.bin"].blob_sha == base["data.bin"].sha


def test_a_changed_tracked_file_over_the_limit_is_refused(tree):
    write(tree, "data.bin", b"\1" * 5000)
    base = base_of(tree, "data.bin")
    write(tree, "data.bin", b"\2" * 5000)
    result = snapshot_working_tree(tree, set(), max_file_bytes=1024, base=base)
    assert "data.bin" not in result.files and "limit" in result.refused["data.bin"]


def test_an_unchanged_small_file_is_not_kept_in_memory_but_a_changed_one_is(tree):
    write(tree, "same.txt", "same\n")
    write(tree, "edited.txt", "before\n")
    base = base_of(tree, "same.txt", "edited.txt")
    write(tree, "edited.txt", "after\n")
    files = snapshot_working_tree(tree, set(), base=base).files
    assert files["same.txt"].content is None and files["edited.txt"].content == b"after\n"


def test_an_unchanged_tracked_symlink_out_of_the_tree_is_not_a_refusal(tree):
    os.symlink("/etc/hosts", tree / "hosts")
    base = base_of(tree, "hosts")
    result = snapshot_working_tree(tree, set(), base=base)
    assert result.refused == {} and result.files["hosts"].blob_sha == base["hosts"].sha


def test_a_retargeted_tracked_symlink_is_judged_again(tree):
    os.symlink("docs", tree / "link")
    base = base_of(tree, "link")
    (tree / "link").unlink()
    os.symlink("/etc/shadow", tree / "link")
    assert "leaves the tree" in snapshot_working_tree(tree, set(), base=base).refused["link"]


def test_new_links_may_not_escape_through_an_unchanged_tracked_link(tree):
    (tree / "sub").mkdir()
    os.symlink("..", tree / "sub" / "up")
    base = base_of(tree, "sub/up")
    os.symlink("up/..", tree / "sub" / "escape")
    result = snapshot_working_tree(tree, set(), base=base)
    assert "sub/up" in result.files and "sub/escape" in result.refused


def test_a_symlink_loop_is_refused(tree):
    os.symlink("b", tree / "a")
    os.symlink("a", tree / "b")
    result = snapshot_working_tree(tree, set())
    assert {"a", "b"} <= set(result.refused)


def test_the_total_size_of_new_content_is_capped(tree):
    for number in range(5):
        write(tree, f"part{number}.bin", b"\0" * 1000)
    result = snapshot_working_tree(tree, set(), max_file_bytes=1000, max_changed_bytes=3000)
    assert sorted(result.files) == ["part0.bin", "part1.bin", "part2.bin"]
    assert "total size" in result.refused["part3.bin"] and "part4.bin" in result.refused


def test_folders_nested_too_deep_are_refused(tree):
    from wave_sandbox.workspace.tree_snapshot import MAX_FOLDER_DEPTH

    descriptor = os.open(tree, os.O_RDONLY)
    try:
        for _ in range(MAX_FOLDER_DEPTH + 5):  # one level at a time: the full path would be too long
            os.mkdir("d", dir_fd=descriptor)
            child = os.open("d", os.O_RDONLY, dir_fd=descriptor)
            os.close(descriptor)
            descriptor = child
        with os.fdopen(os.open("deep.txt", os.O_WRONLY | os.O_CREAT, dir_fd=descriptor), "w") as stream:
            stream.write("x")
    finally:
        os.close(descriptor)
    write(tree, "top.txt")
    result = snapshot_working_tree(tree, set())
    assert sorted(result.files) == ["top.txt"]
    [(refused_path, reason)] = result.refused.items()
    assert refused_path.count("/") == MAX_FOLDER_DEPTH and "deeper" in reason


def test_an_odd_folder_name_the_base_already_has_is_walked(tree):
    raw = os.path.join(os.fsencode(tree), b"caf\xe9")
    os.mkdir(raw)
    with open(os.path.join(raw, b"menu.txt"), "wb") as stream:
        stream.write(b"tracked\n")
    name = os.fsdecode(b"caf\xe9/menu.txt")
    base = base_of(tree, name)
    with open(os.path.join(raw, b"new.txt"), "wb") as stream:
        stream.write(b"added\n")
    result = snapshot_working_tree(tree, set(), base=base)
    assert name in result.files
    assert "UTF-8" in result.refused[os.fsdecode(b"caf\xe9/new.txt")]
