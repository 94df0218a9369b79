"""How much disk a folder tree holds, measured from the host while an untrusted agent writes into it.

The clone watchdog (``engine.clone_watchdog``) calls this every second or so on the read-write clone,
so it must be fast on a 100k-file tree and impossible to fool or to trap:
- Every entry is lstat'ed, never followed: a link counts as itself, wherever it points.
- A file counts as the larger of its length and its allocated blocks: a sparse file of 1 TB that
  holds no block counts as 1 TB (git and every copy would read it whole), a preallocated one as
  what it holds on disk.
- Every inode counts at least one 4 KiB block (an empty file still costs an inode and a directory
  entry), so a million empty files do not count as nothing; a hard-linked inode counts once.
- A folder the agent made unreadable (it runs as our uid when we are not root) is opened for the
  time of its listing when we own it, its mode put back after; one we still cannot list makes the
  measurement fail (``UnmeasurableTree``) rather than count as empty.
- ``stop_above``: the walk ends as soon as the total passes it, since the answer is then known.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from wave_sandbox.errors import WorkspaceError

MIB = 1024 * 1024
SMALLEST_CHARGE = 4096
"""What every inode costs at least: one block of the usual size."""


class UnmeasurableTree(WorkspaceError):
    """A folder of the tree could not be listed, so its size is unknown."""


@dataclass(frozen=True)
class DiskUse:
    """One measurement of a tree."""

    bytes: int
    entries: int
    seconds: float
    complete: bool = True
    """False when the walk stopped early because ``stop_above`` was passed."""

    @property
    def mib(self) -> int:
        return -(-self.bytes // MIB)


def measure_disk_use(root: Path, skip_top_level: tuple[str, ...] = (), stop_above: int | None = None) -> DiskUse:
    """The disk `root` holds (see the module docstring), leaving out `skip_top_level` names.

    Raises:
        UnmeasurableTree: a folder could not be listed, or was swapped for another while the walk ran.
    """
    started = time.monotonic()
    walk = _Walk(stop_above)
    root_stat = os.lstat(root)
    walk.charge(root_stat)
    pending = [(str(root), (root_stat.st_dev, root_stat.st_ino), skip_top_level)]
    while pending and not walk.passed_limit:
        folder, identity, skipped = pending.pop()
        try:
            pending.extend((path, found, ()) for path, found in walk.list_folder(folder, identity, skipped))
        except UnmeasurableTree as error:  # named inside the tree: the host's paths are not the step's business
            raise UnmeasurableTree(str(error).replace(f"{root}/", "")) from error
    return DiskUse(walk.total, walk.entries, time.monotonic() - started, complete=not walk.passed_limit)


def charge_of(entry_stat: os.stat_result) -> int:
    """What one inode counts for."""
    allocated = entry_stat.st_blocks * 512
    length = entry_stat.st_size if stat.S_ISREG(entry_stat.st_mode) else 0
    return max(allocated, length, SMALLEST_CHARGE)


class _Walk:
    def __init__(self, stop_above: int | None):
        self.stop_above = stop_above
        self.total = 0
        self.entries = 0
        self.linked: set[tuple[int, int]] = set()

    @property
    def passed_limit(self) -> bool:
        return self.stop_above is not None and self.total > self.stop_above

    def charge(self, entry_stat: os.stat_result) -> None:
        if entry_stat.st_nlink > 1 and not stat.S_ISDIR(entry_stat.st_mode):
            key = (entry_stat.st_dev, entry_stat.st_ino)
            if key in self.linked:
                return
            self.linked.add(key)
        self.total += charge_of(entry_stat)
        self.entries += 1

    def list_folder(self, folder: str, identity: tuple[int, int], skipped: tuple[str, ...]):
        """Charge every entry of `folder`; return its subfolders with their (device, inode)."""
        opened = _open_folder(folder, identity)
        if opened is None:
            return []
        subfolders = []
        try:
            for entry in os.scandir(opened.descriptor):
                if entry.name in skipped:
                    continue
                try:
                    entry_stat = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                self.charge(entry_stat)
                if stat.S_ISDIR(entry_stat.st_mode):
                    subfolders.append((f"{folder}/{entry.name}", (entry_stat.st_dev, entry_stat.st_ino)))
                if self.passed_limit:
                    break
        finally:
            opened.close()
        return subfolders


_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class _OpenedFolder:
    """A folder's descriptor and, when we had to open its mode to list it, how to put the mode back."""

    def __init__(self, descriptor: int, handle: int | None = None, mode: int | None = None):
        self.descriptor, self.handle, self.mode = descriptor, handle, mode

    def close(self) -> None:
        os.close(self.descriptor)
        if self.handle is not None:
            try:
                os.chmod(f"/proc/self/fd/{self.handle}", self.mode)
            finally:
                os.close(self.handle)


def _open_folder(folder: str, identity: tuple[int, int]) -> _OpenedFolder | None:
    """`folder` opened if it is still the folder its parent listed; None when it is gone.

    Opened without following a link, then checked by device and inode: a parent swapped for a link
    since it was listed would lead elsewhere, and the walk must never leave the tree.
    """
    try:
        opened = _OpenedFolder(os.open(folder, _FOLDER_FLAGS))
    except FileNotFoundError:
        return None  # removed since its parent was listed
    except PermissionError:
        opened = _open_unreadable_folder(folder)
    except OSError as error:  # ENOTDIR, ELOOP: swapped for a file or a link; ENAMETOOLONG
        raise UnmeasurableTree(f"{folder} could not be opened ({error.strerror})") from error
    found = os.fstat(opened.descriptor)
    if (found.st_dev, found.st_ino) != identity:
        opened.close()
        raise UnmeasurableTree(f"{folder} was replaced while it was being measured")
    return opened


def _open_unreadable_folder(folder: str) -> _OpenedFolder:
    """Open a folder we own but may not read: its mode opened for the listing, put back after.

    The mode is changed through a descriptor of the folder itself, never a path that a link could
    send elsewhere on the host.
    """
    try:
        handle = os.open(folder, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        raise UnmeasurableTree(f"cannot open {folder}: {error.strerror or error}") from error
    try:
        handle_stat = os.fstat(handle)
        if handle_stat.st_uid != os.geteuid():
            raise UnmeasurableTree(f"cannot list {folder}: it is not ours and not readable")
        mode = stat.S_IMODE(handle_stat.st_mode)
        os.chmod(f"/proc/self/fd/{handle}", mode | stat.S_IRUSR | stat.S_IXUSR)
        try:
            return _OpenedFolder(os.open(f"/proc/self/fd/{handle}", _FOLDER_FLAGS & ~os.O_NOFOLLOW), handle, mode)
        except OSError:
            os.chmod(f"/proc/self/fd/{handle}", mode)
            raise
    except OSError as error:
        os.close(handle)
        raise UnmeasurableTree(f"cannot list {folder}: {error.strerror or error}") from error
    except UnmeasurableTree:
        os.close(handle)
        raise
