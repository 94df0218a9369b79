"""Commit a read-write step's changes on the host and publish them as the run's review branch.

Host-side git here never looks at the clone's working tree: the tree is read as data by
`tree_snapshot`, blobs, trees and the commit are written with GitPython into the clone's object
store (its `.git` was mounted read-only in every container, so only we ever wrote it), and the commit
is fetched into the user's repository as `refs/heads/wave/<pipeline>/<run-id>`, never moving HEAD or
any other branch. Every git command runs with hooks, fsmonitor, external diff and global/system
config switched off, so no hook, filter, textconv or fsmonitor command can run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from wave_sandbox.errors import WorkspaceError
from wave_sandbox.workspace.clone import Clone
from wave_sandbox.workspace.repository import run_git
from wave_sandbox.workspace.tree_snapshot import MODE_SUBMODULE, TreeSnapshot, snapshot_working_tree

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
        "GIT_CONFIG_VALUE_0": str(clone),
    }


def run_git_on_clone(clone: Path, *arguments: str, **options) -> str:
    return run_git(clone, *arguments, extra_env=clone_git_environment(clone), **options)


@dataclass(frozen=True)
class TreeEntry:
    mode: int
    sha: str


@dataclass
class StepCommit:
    sha: str | None
    changed_paths: list[str]
    refusals: list[str]


def read_tree_entries(clone: Path, commit: str) -> dict[str, TreeEntry]:
    output = run_git_on_clone(clone, "ls-tree", "-r", "-z", "--full-tree", commit)
    entries = {}
    for record in filter(None, output.split("\0")):
        meta, path = record.split("\t", 1)
        mode, _kind, sha = meta.split()
        entries[path] = TreeEntry(int(mode, 8), sha)
    return entries


def ignored_paths(clone: Path, candidates: list[str]) -> set[str]:
    """Which new paths the tree's own .gitignore files exclude (patterns are read as data)."""
    if not candidates:
        return set()
    output = run_git_on_clone(clone, "check-ignore", "-z", "--stdin", check=False, stdin="\0".join(candidates) + "\0")
    return set(filter(None, output.split("\0")))


def next_tree_entries(base: dict[str, TreeEntry], snapshot: TreeSnapshot, ignored: set[str]) -> dict[str, TreeEntry]:
    """The base tree with the snapshot's changes applied; refused and submodule paths keep their base."""
    entries = {path: entry for path, entry in base.items() if entry.mode == MODE_SUBMODULE}
    for path, tree_file in snapshot.files.items():
        if path in ignored and path not in base:
            continue
        entries[path] = TreeEntry(tree_file.mode, tree_file.blob_sha)
    for path, entry in base.items():
        if path not in entries and path in snapshot.refused:
            entries[path] = entry
    return entries


def changed_paths(before: dict[str, TreeEntry], after: dict[str, TreeEntry]) -> list[str]:
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))


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

    def __post_init__(self) -> None:
        self.tip = self.tip or self.clone.base_commit
        self.start = self.tip

    @property
    def name(self) -> str:
        return f"wave/{self.pipeline}/{self.run_id}"

    def commit_step(self, step_id: str, persona: str, summary: str) -> StepCommit:
        base = read_tree_entries(self.clone.path, self.tip)
        submodules = {path for path, entry in base.items() if entry.mode == MODE_SUBMODULE}
        snapshot = snapshot_working_tree(self.clone.path, submodules)
        new_paths = [path for path in snapshot.files if path not in base]
        entries = next_tree_entries(base, snapshot, ignored_paths(self.clone.path, new_paths))
        changes = changed_paths(base, entries)
        if not changes:
            return StepCommit(None, [], snapshot.refusals)
        sha = self._write_commit(snapshot, entries, changes, self._message(step_id, persona, summary))
        self.tip = sha
        self.commits.append(sha)
        self._publish()
        self.files_changed = self._count_files_changed()
        return StepCommit(sha, changes, snapshot.refusals)

    def _message(self, step_id: str, persona: str, summary: str) -> str:
        return (
            f"{step_id} ({persona}): {summary}\n\n"
            f"Wave-Run: {self.run_id}\nWave-Pipeline: {self.pipeline}\nWave-Step: {step_id}\n"
        )

    def _write_commit(self, snapshot: TreeSnapshot, entries, changes: list[str], message: str) -> str:
        import git
        from git.index.fun import write_tree_from_cache
        from git.index.typ import BaseIndexEntry
        from gitdb.base import IStream

        repository = git.Repo(self.clone.path)
        repository.git.update_environment(**clone_git_environment(self.clone.path))
        for path in changes:
            if path in snapshot.files and path in entries:
                content = snapshot.files[path].content
                repository.odb.store(IStream(b"blob", len(content), BytesIO(content)))
        ordered = sorted(entries.items(), key=lambda item: item[0].encode())
        index_entries = [
            BaseIndexEntry((entry.mode, bytes.fromhex(entry.sha), 0, path)) for path, entry in ordered
        ]
        tree_sha, _ = write_tree_from_cache(index_entries, repository.odb, slice(0, len(index_entries)))
        author = git.Actor(*commit_identity(self.repo))
        commit = git.Commit.create_from_tree(
            repository, tree_sha.hex(), message, parent_commits=[repository.commit(self.tip)],
            head=False, author=author, committer=author,
        )
        repository.close()
        return commit.hexsha

    def _publish(self) -> None:
        """Point the clone's run ref at the tip, then fetch it into the user's repo (fast-forward only)."""
        run_git_on_clone(self.clone.path, "update-ref", RUN_REF_IN_CLONE, self.tip)
        trust_clone = {key: value for key, value in clone_git_environment(self.clone.path).items()
                       if key.startswith("GIT_CONFIG_") and key != "GIT_CONFIG_GLOBAL"}
        trust_clone.pop("GIT_CONFIG_NOSYSTEM")
        run_git(
            self.repo, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules",
            "--no-auto-gc", str(self.clone.path), f"{RUN_REF_IN_CLONE}:refs/heads/{self.name}",
            extra_env=trust_clone,
        )

    def _count_files_changed(self) -> int:
        """Files that differ between the run's start and the branch tip (the branch's diffstat)."""
        output = run_git_on_clone(
            self.clone.path, "diff-tree", "-r", "-z", "--name-only", "--no-renames", "--no-ext-diff",
            "--no-textconv", self.start, self.tip,
        )
        return len([name for name in output.split("\0") if name])


def commit_identity(repo: Path) -> tuple[str, str]:
    """`wave-sandbox.name` / `wave-sandbox.email` from the user's repo config, else the default."""
    name = run_git(repo, "config", "--get", "wave-sandbox.name", check=False).strip()
    email = run_git(repo, "config", "--get", "wave-sandbox.email", check=False).strip()
    return name or DEFAULT_AUTHOR[0], email or DEFAULT_AUTHOR[1]
