"""Read the clone's working tree as hostile data: what may go into a commit, what is refused.

Nothing here runs git on the working tree. The tree is walked through folder descriptors (each
folder opened with O_NOFOLLOW relative to its parent), so swapping a folder for a symlink while we
walk (possible when `--keep` leaves the container running) cannot lead us outside the tree; files
are opened the same way, with O_NONBLOCK so a FIFO cannot hang the host, and checked again with fstat.

Only regular files (with git's executable bit) and symlinks that stay inside the tree are taken.
Refused, with a reason: symlinks leaving the tree (also through other links) or pointing into a
`.git`, anything named like git metadata (`.git` and the spellings that macOS and Windows read as
`.git`), special files (FIFOs, sockets, devices), files over the size limit, names that are not UTF-8
or hold control characters, new names that would mislead a reviewer or not check out everywhere
(bidi or zero-width characters, names Windows reserves, two paths told apart only by case), changes
inside a submodule, unreadable or too deeply nested folders.
Rules apply to changes only: an entry identical to its base version (given as `base`) is taken as
it is, and its content is not kept in memory. A regular file whose lstat equals its entry in the
clone's index (`unchanged`, see `index_stat`), where that entry's blob is the base's, is not even
read: its inode is the one git checked out, untouched since. The tree-wide rules (case collisions,
links resolved through other links) still see every path, changed or not.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from wave_sandbox.errors import WorkspaceError
from wave_sandbox.workspace.index_stat import IndexEntry, unchanged_blob
from wave_sandbox.workspace.path_rules import (
    GIT_READ_DOTFILES,
    case_collisions,
    is_git_metadata_name,
    link_resolution_refusal,
    name_refusal,
    new_name_refusal,
    symlink_target_refusal,
)

DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_CHANGED_BYTES = 256 * 1024 * 1024
MAX_FOLDER_DEPTH = 200
MODE_FILE = 0o100644
MODE_EXECUTABLE = 0o100755
MODE_SYMLINK = 0o120000
MODE_SUBMODULE = 0o160000
READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class BaseBlob:
    """A path's entry in the commit the snapshot is compared with."""

    mode: int
    sha: str
    size: int


@dataclass(frozen=True, slots=True)
class TreeFile:
    """One entry to commit: git mode, content (file bytes or link target) and its blob id.

    `known_sha` is set for an entry identical to its base blob, or whose bytes were already handed to
    the walk's blob sink (`streamed`); a regular file's `content` is then None (not kept in memory),
    a symlink's is still its target.
    """

    path: str
    mode: int
    content: bytes | None
    known_sha: str | None = None
    streamed: bool = False

    @property
    def blob_sha(self) -> str:
        if self.known_sha is not None:
            return self.known_sha
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


def snapshot_working_tree(
    root: Path,
    submodule_paths: set[str],
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    base: Mapping[str, BaseBlob] | None = None,
    max_changed_bytes: int = DEFAULT_MAX_CHANGED_BYTES,
    blob_sink: Callable[[bytes], None] | None = None,
    unchanged: Mapping[str, IndexEntry] | None = None,
) -> TreeSnapshot:
    """Walk `root` (skipping its top-level `.git`), returning what may be committed and what is refused.

    With a `blob_sink`, each changed content (file bytes, link target) is handed to it as soon as it is
    read and a regular file's bytes are not kept: memory stays one file's worth, however many change.
    `unchanged` (path -> index entry) names the files whose stat proves them untouched since checkout."""
    walker = _HostileTreeWalker(submodule_paths, max_file_bytes, dict(base or {}), max_changed_bytes)
    walker.blob_sink = blob_sink
    walker.unchanged = unchanged or {}
    try:
        root_descriptor = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.listdir(root_descriptor)  # an unreadable root would otherwise look like a tree emptied
            walker.walk_folder(root_descriptor, "", depth=0)
        finally:
            os.close(root_descriptor)
    except OSError as exc:
        raise WorkspaceError(
            f"the clone's working tree {root} could not be read ({exc.strerror}); nothing was committed"
        ) from exc
    refuse_case_collisions(walker.snapshot, walker.base, submodule_paths)
    refuse_links_escaping_through_links(walker.snapshot)
    return walker.snapshot


class _HostileTreeWalker:
    def __init__(self, submodule_paths, max_file_bytes, base, max_changed_bytes):
        self.submodule_paths = set(submodule_paths)
        self.max_file_bytes = max_file_bytes
        self.base: dict[str, BaseBlob] = base
        # Folders the base commit already has: an odd name the user committed is not the agent's change.
        self.base_folders = {path.rsplit("/", depth)[0] for path in base for depth in range(1, path.count("/") + 1)}
        self.changed_bytes_left = max_changed_bytes
        self.blob_sink: Callable[[bytes], None] | None = None
        self.unchanged: Mapping[str, IndexEntry] = {}
        self.snapshot = TreeSnapshot()

    def refuse(self, relative: str, reason: str) -> None:
        self.snapshot.refused[relative] = reason

    def walk_folder(self, descriptor: int, folder: str, depth: int) -> None:
        try:
            names = sorted(os.listdir(descriptor))
        except OSError as error:
            self.refuse(folder, f"folder could not be read ({error.strerror})")
            return
        for name in names:
            if not folder and name == ".git":
                continue
            self.take_entry(descriptor, folder, name, depth)

    def take_entry(self, descriptor: int, folder: str, name: str, depth: int) -> None:
        relative = f"{folder}/{name}" if folder else name
        try:
            info = os.stat(name, dir_fd=descriptor, follow_symlinks=False)
        except FileNotFoundError:
            return  # removed while we walked: only possible when the container still runs
        if stat.S_ISDIR(info.st_mode):
            self.take_folder(descriptor, relative, name, depth)
        elif stat.S_ISLNK(info.st_mode):
            self.take_symlink(descriptor, relative, name)
        elif stat.S_ISREG(info.st_mode):
            if not self.take_if_stat_unchanged(relative, info):
                self.take_regular_file(descriptor, relative, name)
        else:
            self.refuse(relative, self.change_refusal(relative) or "not a regular file, folder or symlink")

    def change_refusal(self, relative: str) -> str | None:
        """What refuses any change at `relative`, whatever its content."""
        if relative in self.submodule_paths or any(relative.startswith(f"{sub}/") for sub in self.submodule_paths):
            return "change inside a submodule; submodules are never changed"
        covered = sorted(sub for sub in self.submodule_paths if sub.startswith(f"{relative}/"))
        if covered:
            return f"replaces the folder of submodule {covered[0]!r}; submodules are never changed"
        if relative in self.base:
            return name_refusal(relative)
        return name_refusal(relative) or new_name_refusal(relative, self.base_folders)

    def take_folder(self, descriptor: int, relative: str, name: str, depth: int) -> None:
        """Descend into ordinary folders only; a nested `.git` or a submodule's folder is not walked."""
        if is_git_metadata_name(name):
            self.refuse(relative, "a nested .git folder is never committed")
            return
        if relative in self.submodule_paths:
            self.refuse_if_submodule_folder_filled(descriptor, relative, name)
            return
        refusal = None
        if relative not in self.base_folders:
            refusal = name_refusal(relative) or new_name_refusal(relative, self.base_folders)
        if refusal is None and depth >= MAX_FOLDER_DEPTH:
            refusal = f"folders nested deeper than {MAX_FOLDER_DEPTH} levels are never committed"
        if refusal:
            self.refuse(relative, refusal)
            return
        try:
            child = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=descriptor)
        except OSError as error:
            self.refuse(relative, f"folder could not be opened ({error.strerror})")
            return
        try:
            self.walk_folder(child, relative, depth + 1)
        finally:
            os.close(child)

    def refuse_if_submodule_folder_filled(self, descriptor: int, relative: str, name: str) -> None:
        try:
            child = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=descriptor)
        except OSError:
            filled = True
        else:
            try:
                filled = bool(os.listdir(child))
            finally:
                os.close(child)
        if filled:
            self.refuse(relative, "change inside a submodule; submodules are never changed")

    def take_symlink(self, descriptor: int, relative: str, name: str) -> None:
        target = os.readlink(name, dir_fd=descriptor)
        content = os.fsencode(target)
        known = self.base.get(relative)
        if known is not None and known.mode == MODE_SYMLINK and git_blob_sha(content) == known.sha:
            self.snapshot.files[relative] = TreeFile(relative, MODE_SYMLINK, content, known.sha)
            return
        refusal = self.change_refusal(relative)
        if refusal is None and name.lower() in GIT_READ_DOTFILES:
            refusal = f"{name} as a symlink is never committed (git reads this file)"
        refusal = refusal or symlink_target_refusal(relative, target)
        if refusal:
            self.refuse(relative, refusal)
        else:
            self.snapshot.files[relative] = TreeFile(relative, MODE_SYMLINK, content)
            if self.blob_sink is not None:
                self.blob_sink(content)

    def take_regular_file(self, descriptor: int, relative: str, name: str) -> None:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
        try:
            file_descriptor = os.open(name, flags, dir_fd=descriptor)
        except OSError as error:
            self.refuse(relative, self.change_refusal(relative) or f"could not be opened ({error.strerror})")
            return
        with os.fdopen(file_descriptor, "rb") as stream:
            info = os.fstat(stream.fileno())
            refusal = None if stat.S_ISREG(info.st_mode) else "not a regular file, folder or symlink"
            mode = MODE_EXECUTABLE if info.st_mode & stat.S_IXUSR else MODE_FILE
            if refusal is None and self.take_if_unchanged(stream, relative, mode, info.st_size):
                return
            refusal = self.change_refusal(relative) or refusal
            if refusal:
                self.refuse(relative, refusal)
                return
            self.take_changed_content(stream, relative, mode, info.st_size)

    def take_if_stat_unchanged(self, relative: str, info: os.stat_result) -> bool:
        """A file the index proves untouched, whose indexed blob is its base blob, is taken unread."""
        known = self.base.get(relative)
        sha = unchanged_blob(self.unchanged, relative, info) if known is not None else None
        if sha is None or sha != known.sha or self.unchanged[relative].mode != known.mode:
            return False
        self.snapshot.files[relative] = TreeFile(relative, known.mode, None, known.sha)
        return True

    def take_if_unchanged(self, stream, relative: str, mode: int, size: int) -> bool:
        """An entry whose content equals its base blob is taken without keeping its bytes."""
        known = self.base.get(relative)
        if known is None or known.mode == MODE_SYMLINK or known.size != size:
            return False
        digest = hashlib.sha1(f"blob {size}\0".encode())
        remaining = size + 1
        while remaining > 0:
            chunk = stream.read(min(READ_CHUNK, remaining))
            if not chunk:
                break
            digest.update(chunk)
            remaining -= len(chunk)
        if remaining != 1 or digest.hexdigest() != known.sha:
            stream.seek(0)
            return False
        self.snapshot.files[relative] = TreeFile(relative, mode, None, known.sha)
        return True

    def take_changed_content(self, stream, relative: str, mode: int, size: int) -> None:
        if size > self.max_file_bytes:
            self.refuse(relative, f"{size} bytes is over the {self.max_file_bytes}-byte limit")
            return
        content = read_at_most(stream, size, self.max_file_bytes + 1)
        if len(content) > self.max_file_bytes:
            self.refuse(relative, f"grew over the {self.max_file_bytes}-byte limit while being read")
            return
        if len(content) > self.changed_bytes_left:
            self.refuse(relative, "the step's changes are over the total size limit of one commit")
            return
        self.changed_bytes_left -= len(content)
        if self.blob_sink is None:
            self.snapshot.files[relative] = TreeFile(relative, mode, content)
            return
        self.blob_sink(content)
        self.snapshot.files[relative] = TreeFile(relative, mode, None, git_blob_sha(content), streamed=True)


def read_at_most(stream, expected_size: int, limit: int) -> bytes:
    """Read up to `limit` bytes, asking for what fstat said plus one byte first.

    Never `read(limit)` on a small file: the interpreter would allocate `limit` bytes (an mmap) and
    shrink it in place, leaving one mapping per file; 65,530 of them (vm.max_map_count) and the next
    library load fails with "failed to map segment"."""
    chunks, total = [], 0
    want = min(expected_size + 1, limit)
    while total < limit:
        chunk = stream.read(min(want, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        want = READ_CHUNK
    return b"".join(chunks)


def refuse_case_collisions(snapshot: TreeSnapshot, base: Mapping[str, BaseBlob], submodule_paths: set[str]) -> None:
    """A new path that only case or normalisation tells apart from another is refused (the other stays)."""
    new_paths = {path for path in snapshot.files if path not in base}
    paths = [*snapshot.files, *submodule_paths]
    for path, reason in case_collisions(paths, new_paths).items():
        del snapshot.files[path]
        snapshot.refused[path] = reason


def refuse_links_escaping_through_links(snapshot: TreeSnapshot) -> None:
    """Follow each new link through the tree's other links, as a checkout would; refuse escapes."""
    changed = True
    while changed:
        changed = False
        links = {
            path: os.fsdecode(entry.content) for path, entry in snapshot.files.items() if entry.mode == MODE_SYMLINK
        }
        new_links = [path for path in links if snapshot.files[path].known_sha is None]
        for path in new_links:
            refusal = link_resolution_refusal(path, links, snapshot.refused)
            if refusal:
                del snapshot.files[path]
                snapshot.refused[path] = refusal
                changed = True
                break
