"""The `git` binary, called read-only on the service's repository.

The same code runs on the host and in the agent image, where the repository is mounted read-only
and owned by another user (the image's /etc/gitconfig trusts every directory). So: no optional
locks (no index refresh writes), no pager, no external diff or text conversion, and the caller's
GIT_* variables are dropped so that nothing redirects git to another repository.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from wave_sandbox.evidence.errors import EvidenceError

__all__ = ["GitRepository", "open_repository"]

GIT_TIMEOUT_S = 120
SAFE_CONFIG = (
    "-c", "core.quotepath=false",
    "-c", "core.fsmonitor=false",
    "-c", "diff.external=",
    "-c", "log.showSignature=false",
    "-c", "grep.fallbackToNoIndex=false",
)  # fmt: skip


def _git_environment() -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("GIT_")}
    environment.update(GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0", LC_ALL="C", GIT_PAGER="cat")
    return environment


class GitRepository:
    """A repository's top folder and a way to run git in it."""

    def __init__(self, top: Path):
        self.top = top
        self.environment = _git_environment()

    def run(self, arguments: list[str], allowed_exit_codes: tuple[int, ...] = (0,)) -> bytes:
        """Stdout of `git ARGUMENTS`; an EvidenceError naming the command when git fails."""
        command = ["git", "--no-pager", "-C", str(self.top), *SAFE_CONFIG, *arguments]
        try:
            completed = subprocess.run(
                command, capture_output=True, env=self.environment, timeout=GIT_TIMEOUT_S, check=False
            )
        except FileNotFoundError as exc:
            raise EvidenceError("git is not installed; install git and retry") from exc
        except subprocess.TimeoutExpired as exc:
            raise EvidenceError(f"git {arguments[0]} took over {GIT_TIMEOUT_S}s in {self.top}; retry") from exc
        if completed.returncode not in allowed_exit_codes:
            reason = completed.stderr.decode("utf-8", "replace").strip().splitlines()
            raise EvidenceError(
                f"git {' '.join(arguments[:2])} failed in {self.top}: {reason[0] if reason else completed.returncode}"
            )
        return completed.stdout

    def text(self, arguments: list[str], allowed_exit_codes: tuple[int, ...] = (0,)) -> str:
        return self.run(arguments, allowed_exit_codes).decode("utf-8", "replace")

    def has_commits(self) -> bool:
        return bool(self.run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], (0, 1)).strip())


def open_repository(folder: Path) -> GitRepository:
    """The repository holding `folder`; EvidenceError when it is not in one."""
    try:
        is_folder = folder.is_dir()
    except OSError as exc:
        raise EvidenceError(f"{folder} cannot be read ({exc.strerror}); pass --repo with a readable git checkout") from exc
    if not is_folder:
        raise EvidenceError(f"{folder} is not a folder; pass --repo with a git checkout of the service")
    probe = GitRepository(folder)
    try:
        top = probe.text(["rev-parse", "--show-toplevel"]).strip()
    except EvidenceError as exc:
        if "not installed" in str(exc):
            raise
        raise EvidenceError(
            f"{folder} is not a git repository; pass --repo with a git checkout of the service"
        ) from exc
    return GitRepository(Path(top))
