"""What a step changed in the read-write clone, read as data: for the git-based contracts.

Wave's `source_diff`, `test_diff` and `test_count_baseline` run `git diff` in the worktree. Here the clone
is the agent's: its working tree is walked by the same hostile-tree walker the commit uses (no link
followed, no filter, hook or config of the clone run), compared with the run branch's tip, and old
contents are read with `git cat-file` on the clone's objects (plumbing on data, no textconv or driver).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wave_sandbox.workspace.branch import (
    changed_paths, clone_git_environment, ignored_paths, next_tree_entries, read_tree_entries,
)
from wave_sandbox.workspace.repository import run_git_bytes
from wave_sandbox.workspace.tree_snapshot import MODE_SUBMODULE, BaseBlob, snapshot_working_tree

MAX_TEXT_BYTES = 2 * 1024 * 1024
"""A file larger than this is not searched for test declarations (a generated file, not a test)."""


@dataclass(frozen=True)
class ChangedFile:
    """One path the step added, changed or removed; contents are None when absent or too large."""

    path: str
    before: bytes | None
    after: bytes | None


def working_tree_changes(clone: Path, tip: str) -> list[ChangedFile]:
    """Every path whose content or mode differs between `tip` and the clone's working tree."""
    base = read_tree_entries(clone, tip)
    submodules = {path for path, entry in base.items() if entry.mode == MODE_SUBMODULE}
    known = {p: BaseBlob(e.mode, e.sha, e.size) for p, e in base.items() if e.mode != MODE_SUBMODULE}
    snapshot = snapshot_working_tree(clone, submodules, base=known)
    new_paths = [path for path in snapshot.files if path not in base]
    entries = next_tree_entries(base, snapshot, ignored_paths(clone, new_paths))
    changes = []
    for path in changed_paths(base, entries):
        before = base.get(path)
        after = snapshot.files.get(path) if path in entries else None
        old = blob_content(clone, before.sha) if before is not None and 0 <= before.size <= MAX_TEXT_BYTES else None
        new = after.content if after is not None and after.content is not None else None
        changes.append(ChangedFile(path, old, new if new is None or len(new) <= MAX_TEXT_BYTES else None))
    return changes


def blob_content(clone: Path, sha: str) -> bytes:
    return run_git_bytes(clone, "cat-file", "blob", sha, extra_env=clone_git_environment(clone))


def commit_of(clone: Path, ref: str) -> str | None:
    """The commit `ref` names in the clone, or None (an unknown ref, HEAD~1 of a root commit)."""
    output = run_git_bytes(clone, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False,
                           extra_env=clone_git_environment(clone))
    return output.decode().strip() or None


def tree_files(clone: Path, commit: str) -> dict[str, str]:
    """Path -> blob id of every regular file of `commit`."""
    return {path: entry.sha for path, entry in read_tree_entries(clone, commit).items()
            if entry.mode != MODE_SUBMODULE and 0 <= entry.size <= MAX_TEXT_BYTES}
