"""Which repository a command works on, found the way git finds it.

`--repo DIR` or the current folder may be any folder inside a checkout: git's own answer (`rev-parse
--show-toplevel`, asked with the hardened host git) names its top level, where the run records, the
default `output/` and the repository's `.wave/` live. A folder outside every checkout is used as it is
(`validate`, and `run` of a pipeline without read-write mounts, need no git repository).
"""

from __future__ import annotations

from pathlib import Path

from wave_sandbox.errors import ConfigurationError, WorkspaceError
from wave_sandbox.workspace.repository import run_git


def repository_root(repo: Path | None) -> Path:
    """The top level of the checkout holding `repo` (default: the cwd), else `repo` itself, absolute.

    ConfigurationError (exit 2) when the folder is missing or is a file."""
    folder = _given_folder(repo)
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise ConfigurationError(f"repository folder {folder} {problem}; pass an existing folder with --repo")
    return work_tree_top(folder) or folder.resolve()


def work_tree_top(folder: Path) -> Path | None:
    """The top level of the git work tree `folder` lies in, or None (no checkout, or inside `.git`)."""
    try:
        shown = run_git(folder, "rev-parse", "--show-toplevel", check=False).strip()
    except WorkspaceError:  # git is missing: nothing can be a checkout
        return None
    return Path(shown) if shown and Path(shown).is_dir() else None


def _given_folder(repo: Path | None) -> Path:
    if repo is not None:
        return repo.expanduser().absolute()
    try:
        return Path.cwd()
    except FileNotFoundError as exc:
        raise ConfigurationError("the current folder no longer exists; cd into the repository or pass --repo") from exc
