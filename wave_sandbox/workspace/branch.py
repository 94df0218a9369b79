"""Commit a read-write step's changes on the host and publish them as the run's review branch.

Host-side git here never looks at the clone's working tree: the tree is read as data by
`tree_snapshot`, blobs, trees and the commit are written with GitPython into the clone's object
store (its `.git` was mounted read-only in every container, so only we ever wrote it), and the commit
is fetched into the user's repository as `refs/heads/wave/<pipeline>/<run-id>`, never moving HEAD or
any other branch. Every git command runs with hooks, fsmonitor, external diff and global/system
config switched off, so no hook, filter, textconv or fsmonitor command can run; the only git command
that reads anything from the working tree is `check-ignore`, which reads `.gitignore` patterns as data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from wave_sandbox.errors import WorkspaceError
from wave_sandbox.text_safety import one_printable_line
from wave_sandbox.workspace.clone import Clone
from wave_sandbox.workspace.repository import run_git, run_git_bytes
from wave_sandbox.workspace.tree_snapshot import (
    MODE_SUBMODULE,
    BaseBlob,
    TreeSnapshot,
    snapshot_working_tree,
)

RUN_REF_IN_CLONE = "refs/heads/wave-run"
DEFAULT_AUTHOR = ("wave-sandbox", "wave-sandbox@localhost")
MODE_TREE = 0o40000
SUMMARY_MAX_CHARS = 200


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


@dataclass(frozen=True)
class TreeEntry:
    mode: int
    sha: str
    size: int = -1


@dataclass
class StepCommit:
    sha: str | None
    changed_paths: list[str]
    refusals: list[str]


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


def next_tree_entries(base: dict[str, TreeEntry], snapshot: TreeSnapshot, ignored: set[str]) -> dict[str, TreeEntry]:
    """The base tree with the snapshot's changes applied.

    A refused path keeps its base version, and so does everything the base has under a refused
    folder (an unreadable folder or a folder swapped for a link is not a deletion); submodules stay."""
    entries = {path: entry for path, entry in base.items() if entry.mode == MODE_SUBMODULE}
    for path, tree_file in snapshot.files.items():
        if path in ignored and path not in base:
            continue
        entries[path] = TreeEntry(tree_file.mode, tree_file.blob_sha)
    refused = set(snapshot.refused)
    for path, entry in base.items():
        if path not in entries and (path in refused or _under_any(path, refused)):
            entries[path] = entry
    return entries


def changed_paths(before: dict[str, TreeEntry], after: dict[str, TreeEntry]) -> list[str]:
    def identity(entry: TreeEntry | None):
        return None if entry is None else (entry.mode, entry.sha)

    paths = before.keys() | after.keys()
    return sorted(path for path in paths if identity(before.get(path)) != identity(after.get(path)))


def commit_summary(summary: str) -> str:
    """The model's summary as one printable line: it comes from the container, so it is hostile."""
    return one_printable_line(summary, SUMMARY_MAX_CHARS, empty="no summary")


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
        known = {path: BaseBlob(entry.mode, entry.sha, entry.size) for path, entry in base.items()
                 if entry.mode != MODE_SUBMODULE}
        snapshot = snapshot_working_tree(self.clone.path, submodules, base=known)
        new_paths = [path for path in snapshot.files if path not in base]
        entries = next_tree_entries(base, snapshot, ignored_paths(self.clone.path, new_paths))
        changes = changed_paths(base, entries)
        if not changes:
            return StepCommit(None, [], snapshot.refusals)
        sha = self._write_commit(snapshot, entries, changes, self._message(step_id, persona, summary))
        self._publish(sha)  # before recording it: a commit the user's repo lacks is not on the branch
        self.tip = sha
        self.commits.append(sha)
        self.files_changed = self._count_files_changed()
        return StepCommit(sha, changes, snapshot.refusals)

    def _message(self, step_id: str, persona: str, summary: str) -> str:
        return (
            f"{step_id} ({persona}): {commit_summary(summary)}\n\n"
            f"Wave-Run: {self.run_id}\nWave-Pipeline: {self.pipeline}\nWave-Step: {step_id}\n"
        )

    def _write_commit(self, snapshot: TreeSnapshot, entries, changes: list[str], message: str) -> str:
        import git
        from gitdb.db import LooseObjectDB

        repository = git.Repo(self.clone.path)
        # GitPython would honour a GIT_OBJECT_DIRECTORY of the caller's environment (set inside git
        # hooks): name the clone's object store. Objects are only written, in Python, and the parent
        # is named by its id, so GitPython starts no git process that the environment could misdirect.
        repository.odb = LooseObjectDB(str(self.clone.git_dir / "objects"))
        try:
            for path in changes:
                if path in snapshot.files and path in entries and snapshot.files[path].content is not None:
                    _store_object(repository, b"blob", snapshot.files[path].content)
            tree_sha = write_tree(repository, entries)
            author = _commit_actor(commit_identity(self.repo))
            commit = git.Commit.create_from_tree(
                repository, tree_sha, message, parent_commits=[git.Commit(repository, bytes.fromhex(self.tip))],
                head=False, author=author, committer=author,
            )
            return commit.hexsha
        finally:
            repository.close()

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

    def _count_files_changed(self) -> int:
        """Files that differ between the run's start and the branch tip (the branch's diffstat)."""
        output = run_git_on_clone(
            self.clone.path, "diff-tree", "-r", "-z", "--name-only", "--no-renames", "--no-ext-diff",
            "--no-textconv", self.start, self.tip,
        )
        return len([name for name in output.split("\0") if name])


def _store_object(repository, kind: bytes, content: bytes) -> str:
    from gitdb.base import IStream

    return repository.odb.store(IStream(kind, len(content), BytesIO(content))).hexsha.decode()


def write_tree(repository, entries: dict[str, TreeEntry]) -> str:
    """Write the nested trees of `entries` (path -> entry) into the object store; return the root's id.

    Names are written as their bytes (a name that is not UTF-8 keeps its encoding); a path that is both
    a file and a folder is an error, never a broken tree."""
    root: dict[bytes, object] = {}
    for path, entry in entries.items():
        *folders, name = os.fsencode(path).split(b"/")
        node = root
        for folder in folders:
            node = node.setdefault(folder, {})
            if not isinstance(node, dict):
                raise WorkspaceError(f"cannot commit {path!r}: a file and a folder share its path")
        if name in node:
            raise WorkspaceError(f"cannot commit {path!r}: a file and a folder share its path")
        node[name] = entry
    return _write_tree_node(repository, root)


def _write_tree_node(repository, node: dict[bytes, object]) -> str:
    records = []
    for name, child in node.items():
        if isinstance(child, dict):
            records.append((name + b"/", MODE_TREE, name, _write_tree_node(repository, child)))
        else:
            records.append((name, child.mode, name, child.sha))
    records.sort(key=lambda record: record[0])  # git orders a folder as if its name ended in "/"
    content = b"".join(b"%o %s\0%s" % (mode, name, bytes.fromhex(sha)) for _, mode, name, sha in records)
    return _store_object(repository, b"tree", content)


def _commit_actor(identity: tuple[str, str]):
    import git

    name, email = identity
    if any(char in f"{name}{email}" for char in "<>\n"):
        raise WorkspaceError(
            f"wave-sandbox.name/wave-sandbox.email {name!r} <{email}> holds '<', '>' or a line break; "
            "fix them in the repository's git config"
        )
    return git.Actor(name, email)


def commit_identity(repo: Path) -> tuple[str, str]:
    """`wave-sandbox.name` / `wave-sandbox.email` from the user's repo config, else the default."""
    name = run_git(repo, "config", "--get", "wave-sandbox.name", check=False).strip()
    email = run_git(repo, "config", "--get", "wave-sandbox.email", check=False).strip()
    return name or DEFAULT_AUTHOR[0], email or DEFAULT_AUTHOR[1]
