"""Wave's `workspace.mount[].subset_from`: mount only the files an upstream artifact lists.

`subset_from: <step>.<artifact>.<json-path>` names a JSON list of paths relative to the mount's source.
That list is an agent's output, so every entry is untrusted: it is copied on the host, file by file, into
a folder of the run record (which no container sees but through this mount), and that folder is mounted
read-only instead of the source. An entry is refused (skipped, and named in a warning) when it is absolute,
holds `..`, passes through or is a symbolic link, lies in `.git/` or `.wave/runs`, matches a secret
mask, or is not a regular file; a missing entry is skipped as Wave skips it (a pull request's list may
name deleted files). At most MAX_SUBSET_FILES files and MAX_SUBSET_BYTES bytes are copied: a longer list
fails the step. When the artifact itself is not in the record, the whole source is mounted, as in Wave.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from wave_sandbox.bind_mount import BindMount
from wave_sandbox.errors import WorkspaceError
from wave_sandbox.spec.command_checks import split_subset_from
from wave_sandbox.spec.models import Mount
from wave_sandbox.workspace.secrets import matches_secret_pattern, secret_patterns

__all__ = ["MAX_SUBSET_FILES", "MAX_SUBSET_BYTES", "SubsetCopy", "subset_bind_mount", "copy_subset",
           "remove_step_subsets"]

MAX_SUBSET_FILES = 5000
MAX_SUBSET_BYTES = 256 * 1024 * 1024
MAX_LIST_BYTES = 10 * 1024 * 1024
SUBSETS_FOLDER = "subsets"
FORBIDDEN_PREFIXES = ((".git",), (".wave", "runs"))

ArtifactLocator = Callable[[str, str], "Path | None"]


@dataclass
class SubsetCopy:
    """What was copied and what was refused (one phrase per refused entry)."""

    folder: Path
    copied: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def subset_bind_mount(
    mount: Mount, repo: Path, record_folder: Path, step_id: str, position: int, locate: ArtifactLocator,
    refusals: list[str] | None = None,
) -> BindMount:
    """The mount with its source replaced by a read-only copy of the listed files (WorkspaceError
    when the list is malformed or over a cap)."""
    parts = split_subset_from(str(mount.subset_from))
    if parts is None:
        raise WorkspaceError(f"subset_from {mount.subset_from!r} should be '<step>.<artifact>.<json-path>'")
    producer, artifact, json_path = parts
    listing = locate(producer, artifact)
    if listing is None or not listing.is_file():  # Wave's fallback: the artifact is not there, show the whole source
        if refusals is not None:
            refusals.append(f"subset_from {mount.subset_from}: no such artifact in this run; "
                            f"the whole of {mount.source} is mounted at {mount.target}, as Wave does")
        return mount.to_bind_mount(repo)
    entries = read_path_list(listing, json_path, str(mount.subset_from))
    target = record_folder / SUBSETS_FOLDER / step_id / f"mount{position}"
    copy = copy_subset(mount.resolved_source(repo), entries, target, secret_patterns(repo))
    if refusals is not None:
        refusals += [f"subset_from {mount.subset_from}: {refusal}" for refusal in copy.refused]
    return BindMount(target, mount.target, True)


def remove_step_subsets(record_folder: Path, step_id: str) -> None:
    """Remove a finished step's subset copies (the run record keeps artifacts, not copies of the repository)."""
    shutil.rmtree(record_folder / SUBSETS_FOLDER / step_id, ignore_errors=True)


def read_path_list(listing: Path, json_path: str, name: str) -> list[str]:
    """The list of strings at the dotted `json_path` of the JSON file `listing`."""
    if listing.stat().st_size > MAX_LIST_BYTES:
        raise WorkspaceError(f"subset_from {name}: the artifact is over {MAX_LIST_BYTES} bytes")
    try:
        value: Any = json.loads(listing.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise WorkspaceError(f"subset_from {name}: the artifact is not JSON ({error})") from None
    for key in filter(None, json_path.split(".")):
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            raise WorkspaceError(f"subset_from {name}: the artifact has nothing at '{json_path}'")
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise WorkspaceError(f"subset_from {name}: expected a list of file paths at '{json_path}'")
    if len(value) > MAX_SUBSET_FILES:
        raise WorkspaceError(f"subset_from {name}: lists {len(value)} files, more than {MAX_SUBSET_FILES}")
    return value


def copy_subset(source: Path, entries: list[str], target: Path, patterns: tuple[str, ...]) -> SubsetCopy:
    """Copy each acceptable entry from `source` to `target` (created empty), as plain data."""
    if target.exists():  # a resumed run prepares the step again
        shutil.rmtree(target)
    target.mkdir(parents=True)
    result = SubsetCopy(target)
    total = 0
    for entry in dict.fromkeys(entries):  # each path once, in order
        reason, size = _entry_problem(source, entry, patterns)
        if reason == "missing":
            continue
        if reason:
            result.refused.append(f"'{entry}' refused: {reason}")
            continue
        total += size
        if total > MAX_SUBSET_BYTES:
            raise WorkspaceError(f"subset_from: the listed files hold more than {MAX_SUBSET_BYTES} bytes")
        _copy_file(source, PurePosixPath(entry), target)
        result.copied.append(entry)
    return result


def _entry_problem(source: Path, entry: str, patterns: tuple[str, ...]) -> tuple[str | None, int]:
    """Why `entry` may not be copied ("missing" when it is simply not there), and its size."""
    if not entry or "\x00" in entry or entry.startswith("/"):
        return "not a path relative to the mount", 0
    parts = PurePosixPath(entry).parts
    if ".." in parts:
        return "holds '..'", 0
    clean = tuple(part for part in parts if part != ".")
    if any(clean[:len(prefix)] == prefix for prefix in FORBIDDEN_PREFIXES) or ".git" in clean:
        return "lies in .git or .wave/runs", 0
    if matches_secret_pattern("/".join(clean), patterns):
        return "matches a secret mask", 0
    return _walk_problem(source, clean)


def _walk_problem(source: Path, parts: tuple[str, ...]) -> tuple[str | None, int]:
    """Follow `parts` from `source` with lstat only: no link anywhere on the way, a regular file at the end."""
    current = source
    for index, part in enumerate(parts):
        current = current / part
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            return "missing", 0
        except OSError as error:
            return f"unreadable ({error.strerror})", 0
        if stat.S_ISLNK(info.st_mode):
            return "is or passes through a symbolic link", 0
        last = index == len(parts) - 1
        if not last and not stat.S_ISDIR(info.st_mode):
            return "missing", 0
        if last and not stat.S_ISREG(info.st_mode):
            return "not a regular file", 0
    return None, info.st_size


def _copy_file(source: Path, relative: PurePosixPath, target: Path) -> None:
    destination = target.joinpath(*relative.parts)
    destination.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(source.joinpath(*relative.parts), flags)  # a link swapped in since the check fails here
    with os.fdopen(descriptor, "rb") as reader, open(destination, "xb") as writer:
        while chunk := reader.read(1024 * 1024):
            writer.write(chunk)
    os.chmod(destination, 0o644)
