"""Read-only questions about the user's repository, asked with hardened host-side git.

Host git never runs a hook, fsmonitor, pager, filter, textconv or external diff, whatever config
asks for one: the user's global and system config, the repository's own `.git/config` (which a hostile
repository fills in) or a file it includes. Hooks, fsmonitor, pager and external diff are switched off
by name. Filter drivers are named by whoever configures them (`filter.<name>.clean`), so before each
command the config that command would read is listed (as data: listing runs nothing) and every
driver found is blanked (an empty command is no command to git) and made optional, through
`GIT_CONFIG_COUNT` entries that outrank every file. Commands that could show a diff are given
`--no-textconv --no-ext-diff` by their callers; none here does.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from wave_sandbox.errors import WorkspaceError

HARDENING_OPTIONS = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "core.pager=cat",
    "-c", "diff.external=",
    "-c", "protocol.file.allow=always",
    "-c", "core.attributesFile=/dev/null",
)
# A configured filter driver: `filter.<name>.clean|smudge|process` (git prints keys lowercased but the
# subsection as written, and the name may hold dots).
FILTER_DRIVER_KEY = re.compile(r"filter\.(.+)\.(?:clean|smudge|process|required)", re.DOTALL)


def hardened_git_environment() -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    environment.update(GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0", LC_ALL="C", GIT_ATTR_NOSYSTEM="1")
    return environment


def configured_filter_drivers(repo: Path, environment: dict[str, str]) -> set[str]:
    """The filter driver names any config read in `repo` defines (includes followed, as git would)."""
    listed = _spawn_git(["git", *HARDENING_OPTIONS, "-C", str(repo), "config", "--list", "-z"], environment, None)
    names = set()
    for entry in listed.stdout.split(b"\0"):
        key = entry.split(b"\n", 1)[0].decode("utf-8", "surrogateescape")
        match = FILTER_DRIVER_KEY.fullmatch(key)
        if match:
            names.add(match.group(1))
    return names


def without_filter_drivers(repo: Path, environment: dict[str, str]) -> dict[str, str]:
    """`environment` plus config entries blanking every filter driver configured for `repo`."""
    overrides = [
        (f"filter.{name}.{key}", value)
        for name in sorted(configured_filter_drivers(repo, environment))
        for key, value in (("clean", ""), ("smudge", ""), ("process", ""), ("required", "false"))
    ]
    count = int(environment.get("GIT_CONFIG_COUNT", "0"))
    environment = dict(environment, GIT_CONFIG_COUNT=str(count + len(overrides)))
    for index, (key, value) in enumerate(overrides, start=count):
        environment[f"GIT_CONFIG_KEY_{index}"], environment[f"GIT_CONFIG_VALUE_{index}"] = key, value
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
    environment = without_filter_drivers(repo, {**hardened_git_environment(), **(extra_env or {})})
    completed = _spawn_git(["git", *HARDENING_OPTIONS, "-C", str(repo), *arguments], environment, stdin)
    if check and completed.returncode != 0:
        error = completed.stderr.decode("utf-8", "replace").strip()
        raise WorkspaceError(f"git {' '.join(arguments)} failed in {repo}: {error}")
    return completed.stdout


def _spawn_git(command: list[str], environment: dict[str, str], stdin: bytes | None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(command, capture_output=True, env=environment, check=False, input=stdin)
    except FileNotFoundError as exc:
        raise WorkspaceError("git is not installed on this machine; install git and retry") from exc


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


def has_commits(repo: Path) -> bool:
    return bool(run_git(repo, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False).strip())


def uncommitted_changes(repo: Path) -> list[str]:
    """Lines of `git status --porcelain` for tracked changes and untracked files."""
    output = run_git(repo, "status", "--porcelain", "--untracked-files=normal", "--ignore-submodules=all")
    return [line for line in output.splitlines() if line.strip()]


def is_tracked(repo: Path, path: Path) -> bool:
    try:
        relative = path.resolve().relative_to(repo.resolve())
    except ValueError:
        return False
    output = run_git(repo, "ls-files", "--", str(relative), check=False)
    return bool(output.strip())
