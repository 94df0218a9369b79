"""Write a step's commit into the clone's object store as a stream: one `git fast-import` process.

Blobs go in as the tree walk reads them (one file's bytes in memory at a time), and the commit is
described as changes on top of its parent (`D` and `M` lines), so neither the content of 200k files
nor a Python model of every tree is ever held. fast-import reads no working tree, applies no
attribute, filter or textconv, and runs under the clone's hardened git (no hooks, no global or system
config); what we write is framed by byte counts (`data N`) and C-quoted paths, so nothing the agent
chose (a name, a file's bytes, the summary) can be read as a command.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from wave_sandbox.errors import WorkspaceError
from wave_sandbox.workspace.repository import HARDENING_OPTIONS, hardened_git_environment

# Bytes written as themselves inside a quoted path; everything else becomes an octal escape.
PLAIN_PATH_BYTES = frozenset(range(0x20, 0x7F)) - {ord('"'), ord("\\")}


def quoted_path(path: str) -> bytes:
    """`path` (surrogate escapes for non-UTF-8 bytes) as a C-style quoted fast-import path."""
    raw = os.fsencode(path)
    return b'"' + b"".join(bytes([byte]) if byte in PLAIN_PATH_BYTES else b"\\%03o" % byte for byte in raw) + b'"'


class ObjectStream:
    """A running `git fast-import` in the clone; `write_blob` for each new content, then `commit`."""

    def __init__(self, clone: Path, environment: dict[str, str]):
        self.clone = clone
        self.errors = tempfile.TemporaryFile()
        command = ["git", *HARDENING_OPTIONS, "-C", str(clone), "fast-import", "--quiet", "--force", "--done",
                   "--cat-blob-fd=1"]
        try:
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors,
                env={**hardened_git_environment(), **environment},
            )
        except FileNotFoundError as exc:
            self.errors.close()
            raise WorkspaceError("git is not installed on this machine; install git and retry") from exc

    def __enter__(self) -> "ObjectStream":
        return self

    def __exit__(self, *exc_info) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.errors):
            try:
                stream.close()
            except OSError:
                pass  # a pipe fast-import closed first

    def write_blob(self, content: bytes) -> None:
        self._send(b"blob\ndata %d\n" % len(content), content, b"\n")

    def commit(self, ref: str, parent: str, changes: list[tuple[str, int | None, str | None]],
               message: str, author: tuple[str, str]) -> str:
        """Commit `changes` (path, mode, blob id; mode None deletes) on `parent`; return the commit id.

        Deletions go first, so a file may replace a folder it used to be and the other way round."""
        name, email = author
        signature = f"{name} <{email}> {int(time.time())} {_utc_offset()}".encode()
        body = message.encode("utf-8", "surrogateescape")
        self._send(b"commit %s\nmark :1\nauthor %s\ncommitter %s\ndata %d\n" % (ref.encode(), signature, signature,
                                                                                len(body)), body,
                   b"\nfrom %s\n" % parent.encode())
        for path, mode, _sha in changes:
            if mode is None:
                self._send(b"D " + quoted_path(path) + b"\n")
        for path, mode, sha in changes:
            if mode is not None:
                self._send(b"M %o %s %s\n" % (mode, sha.encode(), quoted_path(path)))
        self._send(b"\nget-mark :1\ndone\n")
        return self._finish()

    def _send(self, *pieces: bytes) -> None:
        try:
            for piece in pieces:
                self.process.stdin.write(piece)
        except BrokenPipeError:
            self._finish()  # raises with fast-import's own reason

    def _finish(self) -> str:
        try:
            self.process.stdin.close()
        except BrokenPipeError:
            pass
        answer = self.process.stdout.read().decode("ascii", "replace").strip()
        if self.process.wait() != 0 or len(answer) != 40:
            self.errors.seek(0)
            reason = self.errors.read().decode("utf-8", "replace").strip().splitlines()
            raise WorkspaceError(f"writing the step's commit failed: {reason[0] if reason else answer or 'no commit'}")
        return answer


def _utc_offset() -> str:
    seconds = time.localtime().tm_gmtoff
    sign = "-" if seconds < 0 else "+"
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"
