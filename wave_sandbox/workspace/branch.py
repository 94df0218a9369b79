"""Commit a read-write step's changes on the host and publish them as the run's review branch.

Host-side git here never looks at the clone's working tree: the tree is read as data by
`tree_snapshot` (which reads only the files whose stat differs from the clone's index, `index_stat`), blobs and the commit are streamed through one `git fast-import` into the clone's
object store (its `.git` was mounted read-only in every container, so only we ever wrote it), and the commit
is fetched into the user's repository as `refs/heads/wave/<pipeline>/<run-id>`, never moving HEAD or
any other branch. Every git command runs with hooks, fsmonitor, external diff and global/system
config switched off and every configured filter driver blanked (`repository.run_git`), so no hook,
filter, textconv or fsmonitor command can run; the only git command that reads anything from the
working tree is `check-ignore`, which reads `.gitignore` patterns as data. Each commit's message, and
the branch as a whole, name the files that act when the branch is checked out or built
(`acting_files`), for the reviewer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from wave_sandbox.errors import WorkspaceError
from wave_sandbox.workspace.acting_files import ActingFile, acting_files
from wave_sandbox.workspace.clone import Clone
from wave_sandbox.workspace.commit_message import (
    CommitDetails,
    commit_body,
    commit_subject,
    review_warning,
)
from wave_sandbox.workspace.index_stat import read_index_entries
from wave_sandbox.workspace.object_stream import ObjectStream
from wave_sandbox.workspace.repository import run_git, run_git_bytes
from wave_sandbox.workspace.tree_snapshot import (
    MODE_SUBMODULE,
    BaseBlob,
    TreeSnapshot,
    snapshot_working_tree,
)

RUN_REF_IN_CLONE = "refs/heads/wave-run"
DEFAULT_AUTHOR = ("wave-sandbox", "wave-sandbox@localhost")


def clone_git_environment(clone: Path) -> dict[str, str]:
    """Git on the clone reads no global/system config, and trusts the clone although the container's
    uid owns its working tree (safe.directory given as command-line config, which git honours)."""
    return {
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "safe.directory",
        "GIT_CONFIG_VALUE_0": str(Path(clone).resolve()),
    }


def run_git_on_clone(clone: Path, *arguments: str, **options) -> str:
    return run_git(clone, *arguments, extra_env=clone_git_environment(clone), **options)


@dataclass(frozen=True, slots=True)
class TreeEntry:
    mode: int
    sha: str
    size: int = -1


@dataclass
class StepCommit:
    sha: str | None
    changed_paths: list[str]
    refusals: list[str]
    acting_files: list[ActingFile] = field(default_factory=list)


def read_tree_entries(clone: Path, commit: str) -> dict[str, TreeEntry]:
    """Every entry of `commit`'s tree; names that are not UTF-8 come back as surrogate escapes."""
    output = run_git_bytes(
        clone, "ls-tree", "-r", "-z", "-l", "--full-tree", commit, extra_env=clone_git_environment(clone)
    )
    entries = {}
    for record in filter(None, output.split(b"\0")):
        meta, path = record.split(b"\t", 1)
        mode, _kind, sha, size = meta.decode().split()
        entries[os.fsdecode(path)] = TreeEntry(int(mode, 8), sha, int(size) if size != "-" else -1)
    return entries


def ignored_paths(clone: Path, candidates: list[str]) -> set[str]:
    """Which new paths the tree's own .gitignore files exclude (patterns are read as data)."""
    if not candidates:
        return set()
    output = run_git_on_clone(clone, "check-ignore", "-z", "--stdin", check=False, stdin="\0".join(candidates) + "\0")
    return set(filter(None, output.split("\0")))


def _under_any(path: str, folders: set[str]) -> bool:
    parts = path.split("/")
    return any("/".join(parts[:depth]) in folders for depth in range(1, len(parts)))


NEVER_COMMITTED = {".agents/output", ".agents/artifacts"}
"""Wave's step output and injected-artifact folders: collected as artifacts, never part of the proposed change."""


def next_tree_entries(base: dict[str, TreeEntry], snapshot: TreeSnapshot, ignored: set[str]) -> dict[str, TreeEntry]:
    """The base tree with the snapshot's changes applied.

    Nothing under NEVER_COMMITTED changes: new files there are left out, tracked ones keep their base version.

    A refused path keeps its base version, and so does everything the base has under a refused
    folder (an unreadable folder or a folder swapped for a link is not a deletion); submodules stay."""
    entries = {path: entry for path, entry in base.items() if entry.mode == MODE_SUBMODULE}
    for path, tree_file in snapshot.files.items():
        known = base.get(path)
        if (known is None and path in ignored) or _under_any(path, NEVER_COMMITTED):
            continue
        if known is not None and tree_file.known_sha == known.sha and tree_file.mode == known.mode:
            entries[path] = known  # unchanged: the base's own entry
        else:
            entries[path] = TreeEntry(tree_file.mode, tree_file.blob_sha)
    refused = set(snapshot.refused) | NEVER_COMMITTED
    for path, entry in base.items():
        if path not in entries and (path in refused or _under_any(path, refused)):
            entries[path] = entry
    return entries


def changed_paths(before: dict[str, TreeEntry], after: dict[str, TreeEntry]) -> list[str]:
    """Paths added, removed, or whose mode or blob differ (sizes are not compared: new entries have none)."""
    changed = [path for path in before.keys() - after.keys()]
    for path, entry in after.items():
        old = before.get(path)
        if old is None or old.sha != entry.sha or old.mode != entry.mode:
            changed.append(path)
    return sorted(changed)


@dataclass
class RunBranch:
    """The run's review branch: one commit per read-write step that changed something."""

    repo: Path
    clone: Clone
    pipeline: str
    run_id: str
    tip: str = ""
    commits: list[str] = field(default_factory=list)
    files_changed: int = 0
    acting_files: list[ActingFile] = field(default_factory=list)
    mock: bool = False
    """A `--model mock` run: each commit says so (a Wave-Model: mock trailer and a note)."""

    def __post_init__(self) -> None:
        self.tip = self.tip or self.clone.base_commit
        self.start = self.tip

    @property
    def name(self) -> str:
        return f"wave/{self.pipeline}/{self.run_id}"

    def commit_step(self, step_id: str, persona: str, summary: str, details: CommitDetails | None = None) -> StepCommit:
        base = read_tree_entries(self.clone.path, self.tip)
        submodules = {path for path, entry in base.items() if entry.mode == MODE_SUBMODULE}
        known = {path: BaseBlob(entry.mode, entry.sha, entry.size) for path, entry in base.items()
                 if entry.mode != MODE_SUBMODULE}
        unchanged = read_index_entries(self.clone.git_dir / "index", hash_bytes=len(self.tip) // 2)
        with ObjectStream(self.clone.path, clone_git_environment(self.clone.path)) as objects:
            snapshot = snapshot_working_tree(self.clone.path, submodules, base=known, blob_sink=objects.write_blob,
                                             unchanged=unchanged)
            new_paths = [path for path in snapshot.files if path not in base]
            entries = next_tree_entries(base, snapshot, ignored_paths(self.clone.path, new_paths))
            changes = changed_paths(base, entries)
            if not changes:
                return StepCommit(None, [], snapshot.refusals)
            refuse_file_folder_clashes(entries)
            listed = [(path, entries[path].mode, entries[path].sha) if path in entries else (path, None, None)
                      for path in changes]
            acting = acting_files({path: entries[path].mode for path in changes if path in entries})
            message = self._message(step_id, persona, summary, acting, details or CommitDetails())
            sha = objects.commit(RUN_REF_IN_CLONE, self.tip, listed, message, commit_actor(commit_identity(self.repo)))
        self._publish(sha)  # before recording it: a commit the user's repo lacks is not on the branch
        self.tip = sha
        self.commits.append(sha)
        self.summarise()
        return StepCommit(sha, changes, snapshot.refusals, acting)

    def _message(self, step_id: str, persona: str, summary: str, acting: list[ActingFile],
                 details: CommitDetails) -> str:
        subject = commit_subject(summary, details.final_text)
        body = commit_body(step_id, persona, self.run_id, details)
        mock = "Mock run (--model mock): no real model wrote this change.\n\n" if self.mock else ""
        return (
            f"{subject}\n\n{body}\n\n{mock}{review_warning(acting)}"
            f"Wave-Run: {self.run_id}\nWave-Pipeline: {self.pipeline}\nWave-Step: {step_id}\n"
            + ("Wave-Model: mock\n" if self.mock else "")
        )

    def _publish(self, sha: str) -> None:
        """Point the clone's run ref at `sha`, then fetch it into the user's repo (fast-forward only)."""
        run_git_on_clone(self.clone.path, "update-ref", RUN_REF_IN_CLONE, sha)
        trust_clone = {key: value for key, value in clone_git_environment(self.clone.path).items()
                       if key.startswith("GIT_CONFIG_") and key != "GIT_CONFIG_GLOBAL"}
        trust_clone.pop("GIT_CONFIG_NOSYSTEM")
        run_git(
            self.repo, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules",
            "--no-auto-gc", str(self.clone.path), f"{RUN_REF_IN_CLONE}:refs/heads/{self.name}",
            extra_env=trust_clone,
        )

    def summarise(self) -> None:
        """The branch's diffstat and acting files, between the run's start and its tip."""
        changes = branch_changes(self.clone.path, self.start, self.tip)
        self.files_changed = len(changes)
        self.acting_files = acting_files({path: mode for path, mode in changes.items() if mode})


def branch_changes(clone: Path, old: str, new: str) -> dict[str, int]:
    """path -> the git mode `new` holds there (0 for a deletion), for every path that differs."""
    output = run_git_bytes(
        clone, "diff-tree", "-r", "-z", "--raw", "--no-renames", "--no-ext-diff", "--no-textconv", old, new,
        extra_env=clone_git_environment(clone),
    )
    fields = output.split(b"\0")
    return {os.fsdecode(path): int(meta.split()[1], 8) for meta, path in zip(fields[0::2], fields[1::2]) if path}


def refuse_file_folder_clashes(entries: dict[str, TreeEntry]) -> None:
    """A path that is both a file and a folder is an error, never a broken tree."""
    for path in entries:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            if "/".join(parts[:depth]) in entries:
                raise WorkspaceError(f"cannot commit {path!r}: a file and a folder share its path")


def commit_actor(identity: tuple[str, str]) -> tuple[str, str]:
    name, email = identity
    if any(char in f"{name}{email}" for char in "<>\n"):
        raise WorkspaceError(
            f"wave-sandbox.name/wave-sandbox.email {name!r} <{email}> holds '<', '>' or a line break; "
            "fix them in the repository's git config"
        )
    return name, email


def commit_identity(repo: Path) -> tuple[str, str]:
    """`wave-sandbox.name` / `wave-sandbox.email` from the user's repo config, else the default."""
    name = run_git(repo, "config", "--get", "wave-sandbox.name", check=False).strip()
    email = run_git(repo, "config", "--get", "wave-sandbox.email", check=False).strip()
    return name or DEFAULT_AUTHOR[0], email or DEFAULT_AUTHOR[1]
