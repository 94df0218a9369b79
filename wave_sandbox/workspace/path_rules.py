"""Which paths and symlink targets a commit of the agent's tree may hold, judged as strings.

Git reads `.git` in more spellings than one: macOS ignores case and some invisible code points, Windows
ignores trailing dots and spaces and knows the short name `GIT~1`; a tree entry spelled so would be a
`.git` folder on the reviewer's machine. A symlink is judged by where it leads once every other link of
the tree on the way is followed, since each link alone may stay inside while the chain leaves.
"""

from __future__ import annotations

import posixpath
import re
from collections import deque

MAX_SYMLINK_HOPS = 40
# Code points HFS+ ignores in names, so that `.g\u200cit` is `.git` on a Mac (as git's is_hfs_dotgit).
HFS_IGNORED = set("\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u206a\u206b\u206c\u206d\u206e\u206f\ufeff")
NTFS_SHORT_GIT = re.compile(r"git~\d+")
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
