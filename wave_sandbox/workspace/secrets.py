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
    """Relative paths of regular files under `folder` whose name looks like a secret."""
    found = []
    for current, subfolders, files in os.walk(folder, followlinks=False):
        subfolders[:] = [name for name in subfolders if name not in SKIPPED_FOLDERS]
        relative_folder = os.path.relpath(current, folder)
        for name in files:
            relative = name if relative_folder == "." else f"{relative_folder}/{name}"
            if matches_secret_pattern(relative, patterns) and os.path.isfile(os.path.join(current, name)):
                found.append(relative)
    return sorted(found)

