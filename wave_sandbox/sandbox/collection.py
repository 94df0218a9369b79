"""Rules for taking files out of a sandbox: names and what the container reports are data.

Both sandboxes apply these rules, so a hostile artifact is refused the same way wherever it runs.
A refusal is one short phrase (``"is a symbolic link"``); the runner adds the artifact's name.
"""

from __future__ import annotations

import re
import stat
from pathlib import PurePosixPath

from wave_sandbox.sandbox.contract import CollectedFile

# C0 controls, DEL and the C1 range: a name holding any of them could rewrite a terminal line.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")

REFUSED_SYMLINK = "is a symbolic link (links are never followed)"
REFUSED_PARENT_LINK = "lies under a symbolic link (links are never followed)"
REFUSED_HARD_LINK = "is a hard link (a file with more than one name)"
REFUSED_DIRECTORY = "is a directory, not a file"
REFUSED_SPECIAL = "is not a regular file (a FIFO, socket or device)"
REFUSED_CHANGED = "changed while it was being read"
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
