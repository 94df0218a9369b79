"""The clone's git index read as data: which working-tree files are provably unchanged since checkout.

The index (`.git/index`, formats 2, 3 and 4) records, for each path, the blob id git wrote there and
the file's stat data at that time: ctime, mtime, device, inode, mode, owner and size. The clone's
`.git` is written only on the host (it is mounted read-only in every container), so the container
cannot edit that record; and no process without CAP_SYS_TIME can choose a file's ctime: any write,
truncation, chmod, chown, rename or link gives the inode the current time. A file whose stat equals its
entry is therefore the very inode git checked out, untouched since, and holds the entry's blob.

Two guards keep the signal honest: an entry whose ctime or mtime is not strictly before the index
file's own mtime is "racy" (a change in the same clock tick could keep the time; git has the same
rule) and is not trusted; and an index that does not parse, or whose trailing checksum is wrong, gives
no entries at all. Nothing here runs git: nothing the index holds is interpreted as anything but data.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

SIGNATURE = b"DIRC"
STAT_FIELDS = struct.Struct(">10I")
FLAG_EXTENDED = 0x4000
FLAG_STAGE = 0x3000
NAME_LENGTH_MASK = 0x0FFF
EXTENDED_SKIP_WORKTREE = 0x4000
EXTENDED_INTENT_TO_ADD = 0x2000
TRUSTED_MODES = (0o100644, 0o100755)
LOW_32_BITS = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """What the index says of one path: its stat data (each field cut to 32 bits, as git keeps it)."""

    stat_key: tuple[int, ...]
    mode: int
    sha: str


def stat_key(info: os.stat_result) -> tuple[int, ...]:
    """The fields of `info` the index keeps, in the index's order, cut to 32 bits as git does."""
    fields = (info.st_ctime_ns // 1_000_000_000, info.st_ctime_ns % 1_000_000_000,
              info.st_mtime_ns // 1_000_000_000, info.st_mtime_ns % 1_000_000_000,
              info.st_dev, info.st_ino, info.st_uid, info.st_gid, info.st_size)
    return tuple(field & LOW_32_BITS for field in fields)


def git_file_mode(info: os.stat_result) -> int | None:
    """The git mode of a regular file (executable or not), None for anything else."""
    if not stat.S_ISREG(info.st_mode):
        return None
    return 0o100755 if info.st_mode & stat.S_IXUSR else 0o100644


def unchanged_blob(entries: dict[str, IndexEntry], relative: str, info: os.stat_result) -> str | None:
    """The blob id `relative` provably still holds (its lstat `info` equals its entry), else None."""
    entry = entries.get(relative)
    if entry is None or git_file_mode(info) != entry.mode or stat_key(info) != entry.stat_key:
        return None
    return entry.sha


def read_index_entries(index_file: Path, hash_bytes: int = 20) -> dict[str, IndexEntry]:
    """The trusted entries of `index_file` (path -> entry); empty when it is missing or malformed."""
    try:
        descriptor = os.open(index_file, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(descriptor, "rb") as stream:
            info = os.fstat(stream.fileno())
            data = stream.read() if stat.S_ISREG(info.st_mode) else b""
    except OSError:
        return {}
    if len(data) < 12 + hash_bytes or data[:4] != SIGNATURE:
        return {}
    if _index_digest(data, hash_bytes) != data[-hash_bytes:]:
        return {}
    try:
        return _trusted(_parse(data, hash_bytes), (info.st_mtime_ns // 1_000_000_000, info.st_mtime_ns % 1_000_000_000))
    except (struct.error, ValueError, IndexError, UnicodeDecodeError):
        return {}


def _trusted(entries: dict[str, IndexEntry], index_time: tuple[int, int]) -> dict[str, IndexEntry]:
    """Entries written strictly before the index itself (not racy), of regular files only."""
    return {path: entry for path, entry in entries.items()
            if entry.mode in TRUSTED_MODES and entry.stat_key[0:2] < index_time and entry.stat_key[2:4] < index_time}


def _parse(data: bytes, hash_bytes: int) -> dict[str, IndexEntry]:
    return {os.fsdecode(path): entry for path, _offset, entry in _stage_zero_entries(data, hash_bytes)}


def _stage_zero_entries(data: bytes, hash_bytes: int):
    """(path bytes, offset of its stat data, entry) of every merged, checked-out entry."""
    version, count = struct.unpack_from(">II", data, 4)
    if version not in (2, 3, 4):
        raise ValueError(f"index version {version}")
    offset, previous = 12, b""
    end = len(data) - hash_bytes
    for _ in range(count):
        start = offset
        fields = STAT_FIELDS.unpack_from(data, offset)
        offset += STAT_FIELDS.size
        sha = data[offset:offset + hash_bytes].hex()
        offset += hash_bytes
        (flags,) = struct.unpack_from(">H", data, offset)
        offset += 2
        extended = 0
        if flags & FLAG_EXTENDED and version >= 3:
            (extended,) = struct.unpack_from(">H", data, offset)
            offset += 2
        if version == 4:
            path, offset = _prefix_compressed_path(data, offset, previous)
        else:
            nul = data.index(b"\0", offset, end)
            path = data[offset:nul]
            offset = start + ((nul - start) // 8 + 1) * 8  # 1 to 8 NULs pad the entry to 8 bytes
        previous = path
        if flags & FLAG_STAGE or extended & (EXTENDED_SKIP_WORKTREE | EXTENDED_INTENT_TO_ADD):
            continue
        ctime_s, ctime_ns, mtime_s, mtime_ns, dev, ino, mode, uid, gid, size = fields
        yield path, start, IndexEntry((ctime_s, ctime_ns, mtime_s, mtime_ns, dev, ino, uid, gid, size), mode, sha)
    if offset > end:
        raise ValueError("index entries run past the checksum")


def _prefix_compressed_path(data: bytes, offset: int, previous: bytes) -> tuple[bytes, int]:
    """Format 4: a varint of bytes to drop from the previous path, then the NUL-terminated rest."""
    byte = data[offset]
    offset += 1
    drop = byte & 0x7F
    while byte & 0x80:
        byte = data[offset]
        offset += 1
        drop = ((drop + 1) << 7) | (byte & 0x7F)
    if drop > len(previous):
        raise ValueError("index path prefix longer than the previous path")
    nul = data.index(b"\0", offset)
    return previous[:len(previous) - drop] + data[offset:nul], nul + 1


def record_ownership_change(clone_path: Path, hash_bytes: int = 20) -> int:
    """After our own chown of a fresh checkout (no container has seen it), write each file's new
    ctime, uid and gid into the clone's index, so that it stays a true record without git re-reading
    every file; return how many entries were brought up to date.

    An entry whose file differs in anything a chown cannot change (mode, mtime, device, inode, size:
    a racily-clean entry git smudged, say) is left as it was, and the commit reads that file."""
    index_file = clone_path / ".git" / "index"
    data = bytearray(index_file.read_bytes())
    digest = _index_digest(data, hash_bytes)
    if data[:4] != SIGNATURE or digest != data[-hash_bytes:]:
        return 0
    root, patched = os.fsencode(clone_path), 0
    for path, offset, entry in _stage_zero_entries(bytes(data), hash_bytes):
        try:
            key = stat_key(os.lstat(os.path.join(root, path)))
        except OSError:
            continue
        if entry.mode not in TRUSTED_MODES or key[2:6] != entry.stat_key[2:6] or key[8] != entry.stat_key[8]:
            continue
        struct.pack_into(">II", data, offset, key[0], key[1])
        struct.pack_into(">II", data, offset + 28, key[6], key[7])  # uid, gid: the 8th and 9th fields
        patched += 1
    data[-hash_bytes:] = _index_digest(data, hash_bytes)
    _replace_file(index_file, bytes(data))
    return patched


def _index_digest(data: bytes | bytearray, hash_bytes: int) -> bytes:
    return hashlib.new("sha1" if hash_bytes == 20 else "sha256", data[:-hash_bytes]).digest()


def _replace_file(path: Path, content: bytes) -> None:
    temporary = path.with_name(path.name + ".wave-new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(content)
    os.replace(temporary, path)
