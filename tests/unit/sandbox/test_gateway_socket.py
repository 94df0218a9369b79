"""The folder of a run's gateway socket: its layout and modes, a path too long refused, and the sweep of
dead runs' folders (no Docker: folders in a temporary base)."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
from pathlib import Path

import pytest

from wave_sandbox.errors import SandboxError
from wave_sandbox.sandbox.gateway_socket import (
    FOLDER_PREFIX,
    SOCKET_NAME,
    make_gateway_socket_folder,
    remove_dead_gateway_socket_folders,
)
from wave_sandbox.sandbox.owner import current_owner

DEAD_OWNER = f"{socket.gethostname()}:999999999:1"  # beyond any pid_max


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def base():
    """A short temporary folder (pytest's tmp_path is too deep for a socket's path)."""
    folder = Path(tempfile.mkdtemp(prefix="wsg-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def umask():
    """umask(mask) for the test; the process's own comes back after."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield os.umask
    os.umask(previous)


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077])
def test_the_folder_holds_the_owner_and_a_socket_folder_with_fixed_modes(base, umask, mask):
    umask(mask)
    folder = make_gateway_socket_folder("20261127-143012-ab12", "host:42:7", base=base)
    assert folder.root.parent == base and folder.root.name.startswith(f"{FOLDER_PREFIX}20261127-143012-ab12-")
    assert sorted(p.name for p in folder.root.iterdir()) == ["owner", "socket"]
    assert (folder.root / "owner").read_text() == "host:42:7\n"
    assert mode(folder.root) == 0o700  # nobody else may reach the owner file or replace the socket folder
    assert mode(folder.root / "socket") == 0o711  # the steps' user passes through, lists nothing
    assert folder.socket_path == folder.root / "socket" / SOCKET_NAME and not folder.socket_path.exists()
    assert folder.run_id == "20261127-143012-ab12"


def test_each_run_gets_a_folder_of_its_own(base):
    first, second = (make_gateway_socket_folder("r1", "host:1:1", base=base) for _ in range(2))
    assert first.root != second.root and first.root.is_dir() and second.root.is_dir()


def test_remove_takes_the_folder_and_what_is_in_it_and_may_be_repeated(base):
    folder = make_gateway_socket_folder("r1", "host:1:1", base=base)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(folder.socket_path))
    try:
        folder.remove()
    finally:
        listener.close()
    assert not folder.root.exists()
    folder.remove()  # gone already is fine


def test_a_socket_path_too_long_for_a_unix_socket_is_refused_in_one_line_and_nothing_is_left(tmp_path):
    base = tmp_path / ("d" * 100)
    base.mkdir()
    with pytest.raises(SandboxError) as refused:
        make_gateway_socket_folder("r1", "host:1:1", base=base)
    line = str(refused.value)
    assert "\n" not in line and "longer than a Unix socket allows (107 bytes)" in line and "TMPDIR" in line
    assert list(base.iterdir()) == []


def test_a_base_that_cannot_hold_the_folder_is_refused_in_one_line(tmp_path):
    with pytest.raises(SandboxError, match="could not make the gateway socket folder in") as refused:
        make_gateway_socket_folder("r1", "host:1:1", base=tmp_path / "absent")
    assert "\n" not in str(refused.value)


def test_the_sweep_removes_only_dead_runs_folders(base):
    dead = make_gateway_socket_folder("run-dead-1", DEAD_OWNER, base=base)
    live = make_gateway_socket_folder("run-live", current_owner(), base=base)
    spared = make_gateway_socket_folder("run-kept", DEAD_OWNER, base=base)
    elsewhere = make_gateway_socket_folder("run-elsewhere", "another-host.invalid:1:1", base=base)
    ownerless = make_gateway_socket_folder("run-starting", DEAD_OWNER, base=base)
    (ownerless.root / "owner").unlink()  # a run being set up this instant: not written yet
    unrelated = base / "some-other-folder"
    unrelated.mkdir()

    removed, failures = remove_dead_gateway_socket_folders(frozenset({"run-kept"}), base=base)

    assert removed == ["run-dead-1"] and failures == []
    assert not dead.root.exists()
    assert all(folder.root.is_dir() for folder in (live, spared, elsewhere, ownerless)) and unrelated.is_dir()
    assert remove_dead_gateway_socket_folders(base=base) == (["run-kept"], [])  # spared no longer


def test_the_sweep_of_an_empty_base_removes_nothing(base):
    assert remove_dead_gateway_socket_folders(base=base) == ([], [])


def test_the_sweep_neither_waits_on_a_planted_fifo_nor_reads_a_device_nor_follows_a_link(base, tmp_path):
    fifo = make_gateway_socket_folder("run-fifo", DEAD_OWNER, base=base)
    (fifo.root / "owner").unlink()
    os.mkfifo(fifo.root / "owner")  # reading it would wait for a writer forever
    zero = make_gateway_socket_folder("run-zero", DEAD_OWNER, base=base)
    (zero.root / "owner").unlink()
    (zero.root / "owner").symlink_to("/dev/zero")  # reading it would never end
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "owner").write_text(DEAD_OWNER + "\n")
    (base / "wave-sandbox-gateway-run-link-abcd").symlink_to(victim)  # a link to someone else's folder

    removed, failures = remove_dead_gateway_socket_folders(base=base)

    assert (removed, failures) == ([], [])  # fresh and ownerless: left alone for now
    assert victim.is_dir() and (victim / "owner").is_file()
    assert fifo.root.is_dir() and zero.root.is_dir()


def test_an_ownerless_folder_is_removed_once_it_is_a_minute_old(base):
    killed = make_gateway_socket_folder("run-killed-early", DEAD_OWNER, base=base)
    (killed.root / "owner").unlink()  # killed between making the folder and writing its owner
    assert remove_dead_gateway_socket_folders(base=base) == ([], [])
    old = killed.root.stat().st_mtime - 120
    os.utime(killed.root, (old, old))
    assert remove_dead_gateway_socket_folders(base=base) == (["run-killed-early"], [])
    assert not killed.root.exists()
