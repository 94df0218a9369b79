"""Sockets, FIFOs and device nodes under a mount are masked like secrets, wherever a daemon may keep them."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from wave_sandbox.workspace.secrets import DEFAULT_SECRET_PATTERNS, find_secret_files


def _socket_at(path: Path) -> socket.socket:
    path.parent.mkdir(parents=True, exist_ok=True)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    return listener


def test_sockets_and_fifos_are_masked_and_so_are_those_in_git_but_not_regular_files(tmp_path):
    held = [_socket_at(tmp_path / "tmp" / "sockets" / "puma.sock"), _socket_at(tmp_path / ".git" / "fsmonitor.ipc")]
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "tmp" / "sockets" / "README").write_text("not a socket\n")
    (tmp_path / ".git" / ".env").write_text("inside .git: not looked at for secrets\n")
    (tmp_path / ".env").write_text("KEY=1\n")
    (tmp_path / "link.sock").symlink_to(tmp_path / "tmp" / "sockets" / "puma.sock")
    try:
        found = find_secret_files(tmp_path, DEFAULT_SECRET_PATTERNS)
    finally:
        for listener in held:
            listener.close()
    # the link itself is no special file: the container resolves it to the masked socket
    assert found == [".env", ".git/fsmonitor.ipc", "pipe", "tmp/sockets/puma.sock"]


def test_node_modules_and_venv_are_not_walked(tmp_path):
    held = [_socket_at(tmp_path / "node_modules" / "x" / "a.sock"), _socket_at(tmp_path / ".venv" / "b.sock")]
    try:
        assert find_secret_files(tmp_path, DEFAULT_SECRET_PATTERNS) == []
    finally:
        for listener in held:
            listener.close()
