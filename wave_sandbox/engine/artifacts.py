"""What happens to an artifact once it is out of the container: validation, the run record, --output.

`--output` receives each artifact under its file name, never overwrites a file that git tracks, and,
when it lies inside the repository, ignores itself so that a run never changes `git status`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from wave_sandbox.contracts.json_depth import loads_bounded
from wave_sandbox.engine.records import ensure_self_ignoring_folder
from wave_sandbox.workspace.repository import is_git_repository, is_tracked


@dataclass(frozen=True)
class DeclaredArtifact:
    name: str
    path: str
    type: str | None = None

    @property
    def file_name(self) -> str:
        return PurePosixPath(self.path).name


def artifact_problem(declared: DeclaredArtifact, content: bytes) -> str | None:
    """Why `content` is not a valid artifact of its declared type, or None."""
    if declared.type == "json":
        try:
            loads_bounded(content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            return f"artifact '{declared.name}' ({declared.path}) is not valid JSON: {error}"
    return None


def write_private_file(folder: Path, file_name: str, content: bytes) -> Path:
    """Write into a folder we own, never following a link already sitting at the target."""
    target = folder / file_name
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    if target.is_symlink():
        target.unlink()
    descriptor = os.open(target, flags, 0o644)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(content)
    return target


@dataclass
class OutputFolder:
    """The user's `--output` folder, prepared once per run."""

    folder: Path
    repo: Path
    display_prefix: str

    def prepare(self) -> None:
        inside_repo = _is_inside(self.folder, self.repo) and is_git_repository(self.repo)
        if inside_repo:
            ensure_self_ignoring_folder(self.folder)
        else:
            self.folder.mkdir(parents=True, exist_ok=True)

    def deliver(self, file_name: str, content: bytes) -> tuple[str | None, str | None]:
        """Write one artifact; return (displayed path, None) or (None, refusal reason)."""
        target = self.folder / file_name
        if is_git_repository(self.repo) and _is_inside(target, self.repo) and is_tracked(self.repo, target):
            return None, f"{self.display(file_name)} is tracked by git; not overwritten (the run record has a copy)"
        write_private_file(self.folder, file_name, content)
        return self.display(file_name), None

    def display(self, file_name: str) -> str:
        return f"{self.display_prefix.rstrip('/')}/{file_name}"


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True
