"""Real git repositories in temp folders for the workspace tests (no Docker)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

TEST_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
}


def git(repo: Path, *arguments: str, home: Path | None = None) -> str:
    """Plain git as a user would run it (the test's own git, never wave-sandbox's hardened one)."""
    environment = {**os.environ, **TEST_IDENTITY}
    if home is not None:
        environment["HOME"] = str(home)
    return subprocess.run(
        ["git", "-C", str(repo), *arguments], check=True, capture_output=True, text=True, env=environment
    ).stdout


def git_bytes(repo: Path, *arguments: str) -> bytes:
    return subprocess.run(
        ["git", "-C", str(repo), *arguments], check=True, capture_output=True, env={**os.environ, **TEST_IDENTITY}
    ).stdout


def make_repository(root: Path, files: dict[str, str]) -> Path:
    """A repository at `root` with one commit holding `files` (relative path -> text)."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Initial commit")
    return root


def tree_listing(repo: Path, revision: str) -> dict[str, tuple[str, str]]:
    """path -> (mode, blob id) of every entry of `revision`'s tree (git ls-tree -r)."""
    listing = {}
    for record in filter(None, git_bytes(repo, "ls-tree", "-r", "-z", revision).split(b"\0")):
        meta, path = record.split(b"\t", 1)
        mode, _kind, sha = meta.decode().split()
        listing[os.fsdecode(path)] = (mode, sha)
    return listing


def blob_text(repo: Path, revision: str, path: str) -> str:
    return git(repo, "show", f"{revision}:{path}")
