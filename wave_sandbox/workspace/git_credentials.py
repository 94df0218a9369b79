"""Credentials in git's own files, and copies of those files without them.

A token lives in more places of a repository's git metadata than `remote.<name>.url`: a
`[url "https://x-access-token:TOKEN@github.com/"] insteadOf` header, a `pushurl`, an
`http.extraheader` or `http.<url>.extraheader` Authorization header, a credential helper written
inline, the config of each submodule (`.git/modules/<name>/config`, nested ones under
`modules/<name>/modules/`), a linked worktree's `config.worktree`, a file the config includes. A
step may also mount `.git` itself, or a folder of it.

Each git directory a mount shows is found (the mount itself, `.git`, submodule and worktree git
directories, nested repositories), and every text file at its top (config, config.worktree,
FETCH_HEAD, ...) and every file its config includes that lies in the mount is read: when one holds
a credential, the container is shown a copy with the credential replaced by `***` instead. A copy,
not an empty file, so that `git -C /src log` and `git remote -v` still work in a read-only step.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from wave_sandbox.secret_redaction import URL_SAFE_REDACTED

REDACTED = URL_SAFE_REDACTED
MAX_SCANNED_BYTES = 1024 * 1024
# Folders of a git directory that hold other git directories; the rest (objects, refs, logs,
# hooks, lfs) holds none and is large.
GIT_DIR_CHILDREN = {"modules", "worktrees"}
SKIPPED_TREE_FOLDERS = {".wave", "node_modules", ".venv", "__pycache__"}
NEVER_TEXT = {"index", "packed-refs", "shallow"}

URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s@\"'\\]+)@")
PLAIN_USERS = {"git"}  # ssh://git@host names the account every user shares: no secret
URL_QUERY_SECRET = re.compile(
    r"(?i)([?&](?:access_token|private_token|oauth_token|token|auth|key|sig|signature|password)=)[^&#\s\"']+"
)
# Well-known token shapes, wherever they stand (a comment, a value, a continued line).
TOKEN_SHAPES = re.compile(
    r"\b(gh[pousr]_[A-Za-z0-9]{16,}|github_pat_\w{20,}|glpat-[\w-]{16,}|xox[abposr]-[\w-]{10,}"
    r"|AKIA[0-9A-Z]{16}|sk-[A-Za-z0-9_-]{20,}|npm_[A-Za-z0-9]{20,})"
)
KEY_VALUE = re.compile(r"^(\s*[A-Za-z][A-Za-z0-9-]*\s*=\s*)(.*)$")
SECRET_KEY = re.compile(r"(?i)(header|token|pass|secret|cookie|credential|apikey|api-key)")
SECRET_VALUE = re.compile(
    r"(?i)(\b(authorization|proxy-authorization)\s*:|\bbearer\s+\S|\bbasic\s+[a-z0-9+/=]{8,}"
    r"|(password|passwd|token|secret)\s*=\s*(?!\*\*\*)\S)"
)
COMMENT = re.compile(r"^\s*[#;]")
INCLUDE_PATH = re.compile(r"(?im)^\s*path\s*=\s*\"?([^\"\n]+?)\"?\s*$")


def redact_git_config(text: str) -> str:
    """`text` with every credential replaced by `***`; unchanged when it holds none. Lines stay
    lines, so the copy parses as the original did; a redacted value's continuation lines go."""
    lines, dropping_continuation = [], False
    for line in text.split("\n"):
        if dropping_continuation:
            dropping_continuation = _continues(line)
            continue
        redacted = _redact_line(line)
        if redacted != line and _continues(line) and not COMMENT.match(line):
            dropping_continuation = True
            redacted = redacted.rstrip("\\").rstrip()
        lines.append(redacted)
    return "\n".join(lines)


def _redact_line(line: str) -> str:
    line = URL_QUERY_SECRET.sub(rf"\1{REDACTED}", URL_USERINFO.sub(_redact_userinfo, line))
    line = TOKEN_SHAPES.sub(REDACTED, line)
    if COMMENT.match(line):
        return "# (a credential was here)" if SECRET_VALUE.search(line) else line
    key_value = KEY_VALUE.match(line)
    if key_value is None:
        return line
    key = key_value.group(1).split("=")[0].strip()
    value = key_value.group(2)
    if value.strip() and (SECRET_KEY.search(key) or SECRET_VALUE.search(value)) and value.strip() != REDACTED:
        return key_value.group(1) + REDACTED
    return line


def _redact_userinfo(match: re.Match) -> str:
    if match.group(2) in PLAIN_USERS:
        return match.group()
    return f"{match.group(1)}{REDACTED}@"


def _continues(line: str) -> bool:
    trailing = len(line) - len(line.rstrip("\\"))
    return trailing % 2 == 1


def is_git_dir(folder: Path) -> bool:
    """A git directory: HEAD beside an object store, or beside a `commondir` (a linked worktree's)."""
    return (folder / "HEAD").is_file() and ((folder / "objects").is_dir() or (folder / "commondir").is_file())


def git_dirs_under(root: Path) -> list[Path]:
    """Every git directory at or below `root`, submodules' and nested repositories' included."""
    found = []
    for current, subfolders, _ in os.walk(root, followlinks=False):
        folder = Path(current)
        if is_git_dir(folder):
            found.append(folder)
            subfolders[:] = [name for name in subfolders if name in GIT_DIR_CHILDREN]
        else:
            subfolders[:] = [name for name in subfolders if name not in SKIPPED_TREE_FOLDERS]
    return found


def redacted_git_files(root: Path) -> dict[str, bytes]:
    """{path relative to `root`: redacted copy} for each file of git's that holds a credential."""
    real_root = Path(os.path.realpath(root))
    pending = [path for git_dir in git_dirs_under(root) for path in _top_files(git_dir)]
    copies: dict[str, bytes] = {}
    seen: set[Path] = set()
    while pending:
        path = Path(os.path.realpath(pending.pop()))
        if path in seen or not path.is_relative_to(real_root) or not path.is_file():
            continue
        seen.add(path)
        text = _read_text(path)
        if text is None:  # too large or binary to redact: a config of that kind is hidden whole
            if path.name in ("config", "config.worktree"):
                copies[path.relative_to(real_root).as_posix()] = b""
            continue
        pending.extend(_included_files(path, text))
        redacted = redact_git_config(text)
        if redacted != text:
            copies[path.relative_to(real_root).as_posix()] = redacted.encode("utf-8", "surrogateescape")
    return dict(sorted(copies.items()))


def _top_files(git_dir: Path) -> list[Path]:
    try:
        return [git_dir / name for name in sorted(os.listdir(git_dir)) if name not in NEVER_TEXT]
    except OSError:
        return []


def _read_text(path: Path) -> str | None:
    """The file as text, or None when it is too large or binary (git's own configs are neither)."""
    try:
        if path.stat().st_size > MAX_SCANNED_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    return None if b"\0" in data else data.decode("utf-8", "surrogateescape")


def _included_files(config: Path, text: str) -> list[Path]:
    """Files named by `path =` (include, includeIf; a submodule's folder is skipped as not a file)."""
    named = [match.group(1).strip() for match in INCLUDE_PATH.finditer(text)]
    return [config.parent / name for name in named if name and not name.startswith("~")]
