"""Where an `--output` folder lies with respect to git: the checkout it is in, what git tracks there.

Asked of whichever checkout holds the folder (not only `--repo`): a run must never write into a folder
git tracks, into git's own folder, or among the run records, of any repository. The folder may not
exist yet; its nearest existing parent answers for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from wave_sandbox.workspace.layout import runs_root
from wave_sandbox.workspace.repository import run_git
from wave_sandbox.workspace.repository_root import work_tree_top

TRACKED_SHOWN = 3


@dataclass(frozen=True)
class OutputLocation:
    """What git says about one output folder."""

    folder: Path
    work_tree: Path | None = None
    """The top level of the checkout the folder lies in (None: outside every checkout)."""
    tracked: list[str] = field(default_factory=list)
    """A few files git tracks under the folder, relative to it (empty: git tracks nothing there)."""
    forbidden_place: str | None = None
    """Why the folder can never receive artifacts ("git's own folder", "the run records"), or None."""

    @property
    def in_checkout(self) -> bool:
        return self.work_tree is not None


def locate_output(folder: Path) -> OutputLocation:
    """Ask git about `folder` (absolute; it need not exist)."""
    parent = nearest_existing_folder(folder)
    top = work_tree_top(parent) if parent is not None else None
    git_dir = _git_dir(parent)
    if git_dir is not None and _is_within(folder, git_dir):
        return OutputLocation(folder, top, forbidden_place="git's own folder")
    if top is None:
        return OutputLocation(folder)
    if _is_within(folder, runs_root(top)):
        return OutputLocation(folder, top, forbidden_place="the run records (.wave/runs)")
    return OutputLocation(folder, top, tracked=tracked_files_under(top, folder))


def tracked_files_under(top: Path, folder: Path, limit: int = TRACKED_SHOWN) -> list[str]:
    """Up to `limit` files git tracks under `folder` (the folder itself may be a tracked file)."""
    relative = folder.resolve().relative_to(top.resolve()).as_posix()
    listed = run_git(top, "--literal-pathspecs", "ls-files", "-z", "--", relative or ".", check=False)
    names = [name for name in listed.split("\0") if name]
    return [_shown_relative(name, relative) for name in names[:limit]] + (["..."] if len(names) > limit else [])


def nearest_existing_folder(path: Path) -> Path | None:
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return candidate
    return None


def _git_dir(folder: Path | None) -> Path | None:
    if folder is None:
        return None
    shown = run_git(folder, "rev-parse", "--absolute-git-dir", check=False).strip()
    return Path(shown) if shown else None


def _is_within(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _shown_relative(name: str, folder: str) -> str:
    prefix = f"{folder}/" if folder not in ("", ".") else ""
    return name[len(prefix):] if prefix and name.startswith(prefix) else name
