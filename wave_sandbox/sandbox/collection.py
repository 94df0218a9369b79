"""Rules for taking files out of a sandbox: names and archives from the container are data.

Both sandboxes apply these rules, so a hostile artifact is refused the same way wherever it runs.
A refusal is one short phrase (``"is a symbolic link"``); the runner adds the artifact's name.
"""

from __future__ import annotations

import io
import re
import stat
import tarfile
from pathlib import PurePosixPath

from wave_sandbox.sandbox.contract import CollectedFile

# C0 controls, DEL and the C1 range: a name holding any of them could rewrite a terminal line.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")

REFUSED_SYMLINK = "is a symbolic link (links are never followed)"
REFUSED_PARENT_LINK = "lies under a symbolic link (links are never followed)"
REFUSED_HARD_LINK = "is a hard link (a file with more than one name)"
REFUSED_DIRECTORY = "is a directory, not a file"
REFUSED_SPECIAL = "is not a regular file (a FIFO, socket or device)"
MISSING = "does not exist"


def refusal_for_name(path: str) -> str | None:
    """Why ``path`` (relative to /workspace) may not be collected, or None when its name is fine."""
    if not path:
        return "has an empty name"
    if _CONTROL_CHARACTERS.search(path):
        return "has control characters in its name"
    if path.startswith("/"):
        return "is an absolute path (artifact paths are relative to /workspace)"
    parts = PurePosixPath(path).parts
    if ".." in parts:
        return "has '..' in its name (it would leave /workspace)"
    if path.endswith("/") or all(part == "." for part in parts):
        return "names a folder, not a file"
    return None


def oversize_refusal(size: int, max_bytes: int) -> str:
    return f"is {size} bytes, over the limit of {max_bytes} bytes"


def refusal_for_stat(mode: int, link_count: int, size: int, max_bytes: int) -> str | None:
    """Why a file with this ``lstat`` result may not be collected, or None."""
    if stat.S_ISLNK(mode):
        return REFUSED_SYMLINK
    if stat.S_ISDIR(mode):
        return REFUSED_DIRECTORY
    if not stat.S_ISREG(mode):
        return REFUSED_SPECIAL
    if link_count > 1:
        return REFUSED_HARD_LINK
    if size > max_bytes:
        return oversize_refusal(size, max_bytes)
    return None


def refused(path: str, reason: str) -> CollectedFile:
    return CollectedFile(path=path, content=None, refusal=reason, missing=False)


def missing(path: str) -> CollectedFile:
    return CollectedFile(path=path, content=None, refusal=MISSING, missing=True)


def collected(path: str, content: bytes) -> CollectedFile:
    return CollectedFile(path=path, content=content, refusal=None)


def refusal_for_member(member: tarfile.TarInfo, expected_name: str, max_bytes: int) -> str | None:
    """Why one tar member may not be taken as the file ``expected_name``, or None."""
    if member.name != expected_name:
        return "came back under another name"
    if member.issym():
        return REFUSED_SYMLINK
    if member.islnk():
        return REFUSED_HARD_LINK
    if member.isdir():
        return REFUSED_DIRECTORY
    if not member.isreg():
        return REFUSED_SPECIAL
    if member.size > max_bytes:
        return oversize_refusal(member.size, max_bytes)
    return None


def read_single_file_archive(
    archive: bytes, expected_name: str, max_bytes: int
) -> tuple[bytes | None, str | None]:
    """The content of the one regular file in a tar ``archive``, or a refusal.

    The archive comes from the engine about a file the agent controls: its member types, names and
    sizes are checked, nothing is extracted to disk.
    """
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
            members = tar.getmembers()
            if len(members) != 1:
                return None, REFUSED_DIRECTORY if members and members[0].isdir() else "is not a single file"
            member = members[0]
            reason = refusal_for_member(member, expected_name, max_bytes)
            if reason is not None:
                return None, reason
            extracted = tar.extractfile(member)
            content = extracted.read(max_bytes + 1) if extracted else b""
    except tarfile.TarError as exc:
        return None, f"could not be read from the sandbox ({exc})"
    if len(content) > max_bytes:
        return None, oversize_refusal(len(content), max_bytes)
    return content, None
