"""Read the clone's working tree as hostile data: what may go into a commit, what is refused.

Nothing here runs git on the working tree. The tree is walked with lstat and never followed through
a link; files are read with O_NOFOLLOW. Only regular files (with their executable bit) and symlinks
that stay inside the tree are taken. Refused, with a reason: symlinks leaving the tree, anything under
a `.git` folder, special files (FIFOs, sockets, devices), files over the size limit, names that are not
UTF-8 or hold control characters, and any change inside a submodule.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
MODE_FILE = 0o100644
MODE_EXECUTABLE = 0o100755
MODE_SYMLINK = 0o120000
MODE_SUBMODULE = 0o160000


@dataclass(frozen=True)
class TreeFile:
    """One entry to commit: git mode, content (file bytes or link target) and its blob id."""

    path: str
    mode: int
    content: bytes

    @property
    def blob_sha(self) -> str:
        header = f"blob {len(self.content)}\0".encode()
        return hashlib.sha1(header + self.content).hexdigest()


@dataclass
class TreeSnapshot:
    files: dict[str, TreeFile] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def refusals(self) -> list[str]:
        return [f"{path!r}: {reason}" for path, reason in self.refused.items()]


def git_blob_sha(content: bytes) -> str:
    return TreeFile("", MODE_FILE, content).blob_sha


def _name_refusal(relative: str) -> str | None:
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        return "name is not UTF-8"
    parts = relative.split("/")
    if any(part.lower() == ".git" for part in parts[:-1]) or parts[-1].lower() == ".git":
        return "lies under a .git folder"
    if any(part in ("", ".", "..") for part in parts):
        return "path with '.' or '..' components"
    if any(ord(char) < 32 or ord(char) == 127 for char in relative):
        return "name holds control characters"
    return None


def _symlink_target_refusal(relative: str, target: str) -> str | None:
    """A link may point only at another place inside the tree (git stores its target as data)."""
    if posixpath.isabs(target):
        return f"symlink to an absolute path ({target!r}) leaves the tree"
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(relative), target))
    if resolved == ".." or resolved.startswith("../"):
        return f"symlink to {target!r} leaves the tree"
    return None


def _read_regular_file(absolute: str, expected_size: int) -> bytes:
    descriptor = os.open(absolute, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(descriptor, "rb") as stream:
        return stream.read(expected_size + 1)


def snapshot_working_tree(
    root: Path, submodule_paths: set[str], max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> TreeSnapshot:
    """Walk `root` (skipping its top-level `.git`), returning what may be committed and what is refused."""
    snapshot = TreeSnapshot()
    for folder, subfolders, files in os.walk(root, followlinks=False):
        relative_folder = os.path.relpath(folder, root)
        relative_folder = "" if relative_folder == "." else relative_folder
        if not relative_folder and ".git" in subfolders:
            subfolders.remove(".git")
        for name in sorted([*subfolders, *files]):
            _take_entry(root, relative_folder, name, subfolders, submodule_paths, max_file_bytes, snapshot)
    return snapshot


def _take_entry(root, relative_folder, name, subfolders, submodule_paths, max_file_bytes, snapshot) -> None:
    relative = f"{relative_folder}/{name}" if relative_folder else name
    absolute = os.path.join(root, relative)
    info = os.lstat(absolute)
    if stat.S_ISDIR(info.st_mode):
        _check_folder(root, relative, name, subfolders, submodule_paths, snapshot)
        return
    if name in subfolders:  # a symlink to a folder shows up among os.walk's folders
        subfolders.remove(name)
    refusal = _refusal_for(relative, absolute, info, submodule_paths, max_file_bytes)
    if refusal:
        snapshot.refused[relative] = refusal
        return
    snapshot.files[relative] = _tree_file(relative, absolute, info)


def _check_folder(root, relative, name, subfolders, submodule_paths, snapshot) -> None:
    """Descend into ordinary folders only; a nested `.git` or a submodule's folder is not walked."""
    if name.lower() == ".git":
        subfolders.remove(name)
        snapshot.refused[relative] = "a nested .git folder is never committed"
    elif relative in submodule_paths:
        subfolders.remove(name)
        if any(os.scandir(os.path.join(root, relative))):
            snapshot.refused[relative] = "change inside a submodule; submodules are never changed"


def _refusal_for(relative, absolute, info, submodule_paths, max_file_bytes) -> str | None:
    refusal = _name_refusal(relative)
    if refusal:
        return refusal
    if relative in submodule_paths or any(relative.startswith(f"{sub}/") for sub in submodule_paths):
        return "change inside a submodule; submodules are never changed"
    if stat.S_ISLNK(info.st_mode):
        return _symlink_target_refusal(relative, os.readlink(absolute))
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file, folder or symlink"
    if info.st_size > max_file_bytes:
        return f"{info.st_size} bytes is over the {max_file_bytes}-byte limit"
    return None


def _tree_file(relative: str, absolute: str, info: os.stat_result) -> TreeFile:
    if stat.S_ISLNK(info.st_mode):
        return TreeFile(relative, MODE_SYMLINK, os.fsencode(os.readlink(absolute)))
    mode = MODE_EXECUTABLE if info.st_mode & 0o111 else MODE_FILE
    return TreeFile(relative, mode, _read_regular_file(absolute, info.st_size))
