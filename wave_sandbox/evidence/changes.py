"""The repository's changes, asked of git: commits in a window, lines and texts they changed.

Every history walk is bounded by the window (`BOUNDARY..REVISION`, BOUNDARY being the newest commit
older than the window), so a repository of 50,000 commits costs what its last few days cost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from wave_sandbox.evidence.gitrepo import GitRepository

__all__ = [
    "ChangedFile",
    "CommitChange",
    "HistoryRange",
    "commits_adding_text",
    "commits_changing_lines",
    "commits_writing_line",
    "file_at",
    "files_holding_text",
    "history_range",
    "list_commits",
    "newest_commit_times",
    "patch_lines",
]

RECORD_SEPARATOR, FIELD_SEPARATOR = b"\x1e", b"\x1f"
LOG_FORMAT = "--format=%x1e%H%x1f%ct%x1f%an%x1f%s"
COMMIT_ID = re.compile(rb"^[0-9a-f]{40}$")
MAX_PATCH_BYTES = 64 * 1024


@dataclass(frozen=True)
class ChangedFile:
    path: str
    added: int
    deleted: int
    old_path: str | None = None


@dataclass
class CommitChange:
    """One commit: id, committer time (UTC epoch), author, subject and the files it changed."""

    commit: str
    time: float
    author: str
    subject: str
    files: list[ChangedFile] = field(default_factory=list)

    @property
    def lines_changed(self) -> int:
        return sum(changed.added + changed.deleted for changed in self.files)


@dataclass(frozen=True)
class HistoryRange:
    """The revision deployed at the onset and the commit just older than the window (or None)."""

    revision: str | None
    boundary: str | None

    def arguments(self) -> list[str]:
        if self.revision is None:
            return []
        return [f"{self.boundary}..{self.revision}"] if self.boundary else [self.revision]


def git_date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S +0000")


def history_range(repository: GitRepository, since: float, until: float) -> HistoryRange:
    revision = _newest_before(repository, until)
    boundary = _newest_before(repository, since - 1) if revision else None
    return HistoryRange(revision, boundary if boundary != revision else None)


def _newest_before(repository: GitRepository, moment: float) -> str | None:
    if not repository.has_commits():
        return None
    found = repository.text(["rev-list", "-1", f"--before={git_date(moment)}", "HEAD"]).strip()
    return found or None


def newest_commit_times(repository: GitRepository, until: float, count: int) -> list[float]:
    """Committer times of the `count` newest commits up to `until` (for widening a thin window)."""
    if not repository.has_commits():
        return []
    output = repository.text(["log", "--no-merges", f"-{count}", f"--before={git_date(until)}", "--format=%ct", "HEAD"])
    return [float(line) for line in output.split()]


def list_commits(repository: GitRepository, since: float, until: float) -> list[CommitChange]:
    """Non-merge commits committed in [since, until], newest first, with their files and sizes."""
    if not repository.has_commits():
        return []
    output = repository.run(
        ["log", "--no-merges", "-z", "--numstat", "-M", LOG_FORMAT,
         f"--since={git_date(since)}", f"--until={git_date(until)}", "HEAD"]
    )  # fmt: skip
    commits = [_parse_commit(chunk) for chunk in output.split(RECORD_SEPARATOR) if chunk.strip(b"\0\n")]
    return [commit for commit in commits if since <= commit.time <= until]


def _parse_commit(chunk: bytes) -> CommitChange:
    header, _, rest = chunk.partition(b"\0")
    commit, committed, author, subject = (header.split(FIELD_SEPARATOR) + [b""] * 4)[:4]
    change = CommitChange(commit.decode(), float(committed or 0), _text(author), _text(subject))
    tokens = rest.lstrip(b"\n").split(b"\0")
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if not token.strip():
            continue
        added, deleted, path = (token.split(b"\t", 2) + [b"", b""])[:3]
        old_path = None
        if not path and index + 1 < len(tokens):  # a rename: "added\tdeleted\t\0old\0new"
            old_path, path = _text(tokens[index]), tokens[index + 1]
            index += 2
        change.files.append(ChangedFile(_text(path), _count(added), _count(deleted), old_path))
    return change


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").strip()


def _count(raw: bytes) -> int:
    return int(raw) if raw.strip().isdigit() else 0  # "-" for binary files


def file_at(repository: GitRepository, revision: str, path: str) -> str | None:
    output = repository.run(["cat-file", "-p", f"{revision}:{path}"], (0, 128))
    return output.decode("utf-8", "replace") if output else None


def commits_changing_lines(
    repository: GitRepository, history: HistoryRange, path: str, first_line: int, last_line: int
) -> set[str]:
    """Commits in the range that changed those lines of `path` (as numbered at the revision)."""
    if history.revision is None:
        return set()
    output = repository.run(
        ["log", f"-L{first_line},{last_line}:{path}", "-s", "--format=%H", *history.arguments()], (0, 128)
    )
    return _commit_ids(output)


def commits_writing_line(
    repository: GitRepository, history: HistoryRange, path: str, line: int, source: str
) -> set[str]:
    """Commits in the range that wrote that line of `path` (numbered at the revision): among the
    commits `git log -L` follows the line through, those whose added lines hold the frame's code.
    Without the code (a log that printed none), every commit -L follows."""
    if history.revision is None:
        return set()
    output = repository.run(
        ["log", "--no-textconv", "--no-ext-diff", f"-L{line},{line}:{path}", "--format=%x1e%H", *history.arguments()],
        (0, 128),
    )
    wanted = source.strip()
    found = set()
    for chunk in output.split(RECORD_SEPARATOR)[1:]:
        commit, _, patch = chunk.partition(b"\n")
        added = {
            raw[1:].decode("utf-8", "replace").strip()
            for raw in patch.splitlines()
            if raw.startswith(b"+") and not raw.startswith(b"+++")
        }
        if not wanted or wanted in added:
            found.add(commit.strip().decode())
    return found


def commits_adding_text(repository: GitRepository, history: HistoryRange, text: str) -> set[str]:
    """Commits in the range that added or removed an occurrence of `text` (git's pickaxe, -S)."""
    if history.revision is None:
        return set()
    output = repository.run(
        ["log", "--no-merges", "--no-textconv", "--no-ext-diff", f"-S{text}", "--format=%H", *history.arguments()],
        (0, 128),
    )
    return _commit_ids(output)


def files_holding_text(repository: GitRepository, revision: str | None, text: str) -> set[str]:
    """Files of the revision holding `text` literally."""
    if revision is None:
        return set()
    output = repository.run(["grep", "-F", "-I", "-l", "-z", "-e", text, revision, "--"], (0, 1, 128))
    prefix = f"{revision}:"
    return {name.decode("utf-8", "replace").removeprefix(prefix) for name in output.split(b"\0") if name}


def patch_lines(repository: GitRepository, commit: str, paths: list[str]) -> list[str]:
    """The added and removed lines (with their + or -) that the commit made to these paths."""
    output = repository.run(
        ["show", "--format=", "-U0", "--no-ext-diff", "--no-textconv", "--no-color", commit, "--", *paths], (0, 128)
    )[:MAX_PATCH_BYTES]
    lines = output.decode("utf-8", "replace").splitlines()
    return [line for line in lines if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def _commit_ids(output: bytes) -> set[str]:
    return {line.strip().decode() for line in output.splitlines() if COMMIT_ID.match(line.strip())}
