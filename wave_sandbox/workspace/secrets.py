"""Files an agent should never read: secret-looking files in a mounted repository. They are masked
inside the container (an empty file over them), which changes nothing on the host, so masking never
shows up on the review branch. (Credentials in git's own files: see `git_credentials`.)

A repository may add patterns in `.wave/masks` (one glob per line, `#` comments). They add to the defaults and never
replace them: the repository is untrusted input, and an operator's untracked `.env` or `deploy.pem`
must stay masked whatever the repository says (SECURITY.md).
Patterns are matched against each file's name, its path relative to the mount and every trailing part of
that path (so `.kube/config` matches `deploy/.kube/config` too).
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from pathlib import Path

DEFAULT_SECRET_PATTERNS = (
    ".env", ".env.*", "*.pem", "id_*", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore",
    ".netrc", "_netrc", ".npmrc", ".pypirc", ".git-credentials", ".pgpass", ".htpasswd", ".vault-token",
    ".docker/config.json", ".kube/config", "kubeconfig", "*.kubeconfig", ".aws/credentials",
    ".cargo/credentials", ".cargo/credentials.toml", ".gem/credentials", "credentials.tfrc.json",
    ".config/gh/hosts.yml",
)  # fmt: skip
MASKS_FILE = Path(".wave") / "masks"
SKIPPED_FOLDERS = {".git", ".wave", "node_modules", ".venv", "__pycache__"}
UNWALKED_FOLDERS = {"node_modules", ".venv"}
"""Not walked at all, not even for sockets: too large to walk for every step."""
MASKS_FILE_READ_LIMIT = 64 * 1024


def secret_patterns(repo: Path) -> tuple[str, ...]:
    """The default patterns, then the repository's own additions (never fewer than the defaults)."""
    added = [pattern for pattern in repository_mask_patterns(repo) if pattern not in DEFAULT_SECRET_PATTERNS]
    return DEFAULT_SECRET_PATTERNS + tuple(dict.fromkeys(added))


def repository_mask_patterns(repo: Path) -> list[str]:
    """The patterns in `.wave/masks`: a regular file, its first 64 KiB, printable lines only."""
    masks_file = repo / MASKS_FILE
    if not masks_file.is_file():
        return []
    with open(masks_file, "rb") as stream:
        text = stream.read(MASKS_FILE_READ_LIMIT).decode("utf-8", errors="replace")
    lines = [line.strip() for line in text.splitlines()]
    return [line for line in lines if line and not line.startswith("#") and line.isprintable()]


def matches_secret_pattern(relative: str, patterns: tuple[str, ...]) -> bool:
    return _pattern_matcher(patterns).match(relative) is not None


@functools.lru_cache(maxsize=16)
def _pattern_matcher(patterns: tuple[str, ...]) -> re.Pattern:
    """All the globs as one expression matching the whole path or any trailing part of it: a walk over
    a large tree tries each path once, not once per glob and part."""
    globs = "|".join(f"(?:{fnmatch.translate(pattern)})" for pattern in patterns) or "(?!)"
    return re.compile(f"(?:[^/]*/)*?(?:{globs})")


def find_secret_files(folder: Path, patterns: tuple[str, ...]) -> list[str]:
    """Relative paths under `folder` to mask: regular files whose name looks like a secret, and every
    socket, FIFO and device node.

    A live socket in the user's tree (a development database's, say) would answer a step: `connect`
    ignores a read-only mount, and gVisor, allowed to reach the gateway's host socket, reaches any
    socket mounted into it. An empty file over it leaves nothing to connect to (under gVisor, its folder
    is hidden: `container_config.plan_masks`). Special files are told apart by the directory entry's
    type, with no `stat` per file, and are looked for in `.git`, `.wave` and `__pycache__` too (git's
    fsmonitor daemon keeps its socket in `.git`), though not in `node_modules` and `.venv`, whose
    hundreds of thousands of files would cost every step a walk of seconds (SECURITY.md).
    """
    found = []
    pending = [(str(folder), "", False)]
    while pending:
        current, prefix, special_only = pending.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue  # unlistable here, so unlisted: a step that knows a name in it may still reach it (SECURITY.md)
        for entry in entries:
            relative = prefix + entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in UNWALKED_FOLDERS:
                        pending.append((entry.path, relative + "/", special_only or entry.name in SKIPPED_FOLDERS))
                elif entry.is_symlink() or entry.is_file(follow_symlinks=False):
                    # a link is masked where it points, when that is a regular file (container_config)
                    if not special_only and matches_secret_pattern(relative, patterns) and entry.is_file():
                        found.append(relative)
                else:  # a socket, FIFO or device node
                    found.append(relative)
            except OSError:
                continue
    return sorted(found)

