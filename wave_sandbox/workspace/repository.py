"""Read-only questions about the user's repository, asked with hardened host-side git.

Host git never runs a hook, fsmonitor, pager or external diff while answering these.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from wave_sandbox.errors import WorkspaceError

HARDENING_OPTIONS = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "core.pager=cat",
    "-c", "diff.external=",
    "-c", "protocol.file.allow=always",
)


def hardened_git_environment() -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    environment.update(GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0", LC_ALL="C")
    return environment


def run_git(
    repo: Path,
    *arguments: str,
    check: bool = True,
    stdin: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> str:
    """Run one git command in `repo` and return its stdout; failures become WorkspaceError.

    Output that is not UTF-8 (a file name in another encoding) is kept as surrogate escapes, as
    `os.fsdecode` does, so such a path round-trips to the same bytes."""
    encoded = None if stdin is None else stdin.encode("utf-8", "surrogateescape")
    output = run_git_bytes(repo, *arguments, check=check, stdin=encoded, extra_env=extra_env)
    return output.decode("utf-8", "surrogateescape")


def run_git_bytes(
    repo: Path,
    *arguments: str,
    check: bool = True,
    stdin: bytes | None = None,
    extra_env: dict[str, str] | None = None,
) -> bytes:
    """`run_git` returning stdout as bytes."""
    command = ["git", *HARDENING_OPTIONS, "-C", str(repo), *arguments]
    environment = {**hardened_git_environment(), **(extra_env or {})}
    try:
        completed = subprocess.run(
            command, capture_output=True, env=environment, check=False, input=stdin
        )
    except FileNotFoundError as exc:
        raise WorkspaceError("git is not installed on this machine; install git and retry") from exc
    if check and completed.returncode != 0:
        error = completed.stderr.decode("utf-8", "replace").strip()
        raise WorkspaceError(f"git {' '.join(arguments)} failed in {repo}: {error}")
    return completed.stdout


def is_git_repository(path: Path) -> bool:
    try:
        inside = run_git(path, "rev-parse", "--is-inside-work-tree", check=False).strip()
    except WorkspaceError:
        return False
    return inside == "true"


def git_toplevel(path: Path) -> Path:
    return Path(run_git(path, "rev-parse", "--show-toplevel").strip())


def head_commit(repo: Path) -> str:
    head = run_git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False).strip()
    if not head:
        raise WorkspaceError(f"{repo} has no commits yet; commit something, then run again")
    return head


def uncommitted_changes(repo: Path) -> list[str]:
    """Lines of `git status --porcelain` for tracked changes and untracked files."""
    output = run_git(repo, "status", "--porcelain", "--untracked-files=normal")
    return [line for line in output.splitlines() if line.strip()]


def is_tracked(repo: Path, path: Path) -> bool:
    try:
        relative = path.resolve().relative_to(repo.resolve())
    except ValueError:
        return False
    output = run_git(repo, "ls-files", "--", str(relative), check=False)
    return bool(output.strip())
