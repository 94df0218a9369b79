"""Which paths and symlink targets a commit of the agent's tree may hold, judged as strings.

Git reads `.git` in more spellings than one: macOS ignores case and some invisible code points, Windows
ignores trailing dots and spaces and knows the short name `GIT~1`; a tree entry spelled so would be a
`.git` folder on the reviewer's machine. A symlink is judged by where it leads once every other link of
the tree on the way is followed, since each link alone may stay inside while the chain leaves.

A name the agent introduces must also read the same to the reviewer and check out the same everywhere:
no bidirectional or zero-width characters (a name that displays as another), no name Windows reserves
(`CON`, `aux.c`, a trailing dot or space, `<>:"|?*\\`), and no two paths that differ only in case or
Unicode normalisation (one would overwrite the other on macOS and Windows). Names the base commit
already has are the user's, and are left alone.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections import deque
from typing import Iterable

MAX_SYMLINK_HOPS = 40
# Code points HFS+ ignores in names, so that `.g\u200cit` is `.git` on a Mac (as git's is_hfs_dotgit).
HFS_IGNORED = set("\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u206a\u206b\u206c\u206d\u206e\u206f\ufeff")
NTFS_SHORT_GIT = re.compile(r"git~\d+")
# Characters that reorder or hide text: bidi embeddings, overrides, isolates and marks, zero-width ones.
INVISIBLE_OR_REORDERING = re.compile("[\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
                                     "\u2066-\u206f\u3164\ufeff\uffa0]")
WINDOWS_DEVICE_NAME = re.compile(r"(con|prn|aux|nul|com[1-9\u00b9\u00b2\u00b3]|lpt[1-9\u00b9\u00b2\u00b3]"
                                 r"|conin\$|conout\$)(\s*\..*)?", re.IGNORECASE)
WINDOWS_FORBIDDEN_CHARACTERS = set('<>:"|?*\\')
# Files git itself reads from the tree; git refuses to follow them when they are symlinks.
GIT_READ_DOTFILES = {".gitmodules", ".gitattributes", ".gitignore", ".mailmap"}


def is_git_metadata_name(part: str) -> bool:
    """`.git` as git, macOS (case, ignorable code points) or Windows (`.git.`, `GIT~1`, `\\`, `:`) read it."""
    for piece in part.split("\\"):
        folded = "".join(char for char in piece.split(":", 1)[0] if char not in HFS_IGNORED)
        folded = folded.rstrip(" .").lower()
        if folded == ".git" or NTFS_SHORT_GIT.fullmatch(folded):
            return True
    return False


def name_refusal(relative: str) -> str | None:
    """Why a path may not be committed by the agent, whatever it holds (None when it may)."""
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        return "name is not UTF-8"
    if any(ord(char) < 32 or 127 <= ord(char) < 160 for char in relative):
        return "name holds control characters"
    parts = relative.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "path with '.' or '..' components"
    if any(is_git_metadata_name(part) for part in parts):
        return "named like git metadata (.git); never committed"
    return None


def new_name_refusal(relative: str, existing_folders: set[str]) -> str | None:
    """Why a name the agent introduced would mislead a reviewer or not check out everywhere; the
    folders of `existing_folders` (the base commit's) are not judged again."""
    parts = relative.split("/")
    for depth, part in enumerate(parts, start=1):
        if depth < len(parts) and "/".join(parts[:depth]) in existing_folders:
            continue
        reason = part_portability_refusal(part)
        if reason:
            return reason
    return None


def part_portability_refusal(part: str) -> str | None:
    hidden = INVISIBLE_OR_REORDERING.search(part)
    if hidden:
        return (f"name holds the invisible or text-reordering character U+{ord(hidden.group()):04X}; "
                "it would read as another name")
    if WINDOWS_DEVICE_NAME.fullmatch(part):
        return f"{part!r} is a device name Windows reserves; it cannot be checked out there"
    if part.endswith((".", " ")):
        return f"{part!r} ends in a dot or a space, which Windows drops; it cannot be checked out there"
    forbidden = sorted(WINDOWS_FORBIDDEN_CHARACTERS & set(part))
    if forbidden:
        return f"name holds {''.join(forbidden)!r}, which Windows forbids in names; it cannot be checked out there"
    return None


def folded_name(path: str) -> str:
    """How a case-insensitive, normalising file system (macOS, Windows) sees `path`."""
    return unicodedata.normalize("NFC", path).casefold()


def case_collisions(paths: Iterable[str], new_paths: set[str]) -> dict[str, str]:
    """The `new_paths` that, or one of whose folders, equal another path or folder of `paths` once
    folded (case, Unicode normalisation), with the spelling they collide with."""
    first_spelling: dict[str, str] = {}
    clashes: dict[str, str] = {}
    for path in paths:
        for prefix in _prefixes(path):
            # an ASCII name already in lower case is its own key: no second copy of 200k strings
            key = prefix if prefix.isascii() and prefix.lower() == prefix else folded_name(prefix)
            other = first_spelling.setdefault(key, prefix)
            if other != prefix:
                clashes[prefix] = other
                clashes.setdefault(other, prefix)
    collisions = {}
    for path in sorted(new_paths):
        clashing = next((prefix for prefix in _prefixes(path) if prefix in clashes), None)
        if clashing is not None:
            collisions[path] = (f"{clashing!r} and {clashes[clashing]!r} differ only in case or Unicode "
                                "normalisation; one would overwrite the other on macOS and Windows")
    return collisions


def _prefixes(path: str):
    """`a`, `a/b`, `a/b/c` for `a/b/c`."""
    position = path.find("/")
    while position != -1:
        yield path[:position]
        position = path.find("/", position + 1)
    yield path


def symlink_target_refusal(relative: str, target: str) -> str | None:
    """A link may point only at another place inside the tree, never into a `.git` (read alone)."""
    if posixpath.isabs(target):
        return f"symlink to an absolute path ({target!r}) leaves the tree"
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(relative), target))
    if resolved == ".." or resolved.startswith("../"):
        return f"symlink to {target!r} leaves the tree"
    if any(is_git_metadata_name(part) for part in re.split(r"[/\\]", target)):
        return f"symlink to {target!r} points into a .git folder"
    return None


def link_resolution_refusal(link_path: str, links: dict[str, str], refused: dict[str, str]) -> str | None:
    """Follow the link at `link_path` through the tree's other `links` (path -> target), as a checkout
    would; say why when it leaves the tree, loops, or passes through a `refused` path."""
    folders = link_path.split("/")[:-1]
    pending = deque(links[link_path].split("/"))
    hops = 0
    while pending:
        part = pending.popleft()
        if part in ("", "."):
            continue
        if part == "..":
            if not folders:
                return f"symlink to {links[link_path]!r} leaves the tree through other links"
            folders.pop()
            continue
        folders.append(part)
        here = "/".join(folders)
        if here in refused:
            return f"symlink to {links[link_path]!r} goes through {here!r}, which is refused"
        if here in links:
            hops += 1
            if hops > MAX_SYMLINK_HOPS or posixpath.isabs(links[here]):
                return f"symlink to {links[link_path]!r} loops or leaves the tree through other links"
            folders.pop()
            pending.extendleft(reversed(links[here].split("/")))
    return None
