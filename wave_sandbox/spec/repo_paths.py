"""Paths a Wave repository names (prompt files, schemas, persona prompts, skills), resolved inside it.

Wave resolves `source_path`, `schema_path`, `system_prompt_file` and skill folders against the project
root. The repository is untrusted: a name that climbs out of it (`../`), is absolute, or reaches
outside through a symlink anywhere on its way would hand a host file to the model, so each is refused
with the reason, and the caller reports it at the line that names it.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath


class RepositoryPathError(ValueError):
    """A repository-relative path that cannot be used; the message says why (no file name in it)."""


def resolve_in_repository(repo: Path, relative: str, *, must_be_file: bool = True) -> Path:
    """`relative` against `repo`, symlinks resolved, refused when it leaves the repository or is missing."""
    if not relative or relative.startswith("/") or PurePosixPath(relative).is_absolute():
        raise RepositoryPathError("should be a path relative to the repository")
    if ".." in PurePosixPath(relative).parts:
        raise RepositoryPathError("leaves the repository ('..')")
    root = repo.resolve()
    resolved = (root / relative).resolve()
    if not resolved.is_relative_to(root):
        raise RepositoryPathError("resolves outside the repository (a symlink); copy the file in instead of linking")
    if must_be_file and not resolved.is_file():
        raise RepositoryPathError("no such file in the repository")
    if not must_be_file and not resolved.exists():
        raise RepositoryPathError("does not exist in the repository")
    return resolved


def read_repository_text(repo: Path, relative: str) -> str:
    """The UTF-8 text of a file named relative to the repository (RepositoryPathError when it cannot be)."""
    path = resolve_in_repository(repo, relative)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RepositoryPathError(f"cannot be read: {error}") from error
