"""The folder holding a run's gateway socket: the only way out of a step's container.

Steps run with no network at all (Docker's ``none``: loopback only). The run's gateway listens on a Unix
socket in a folder of its own, and each agent step gets that folder bind-mounted read-only: a socket
is reached through the file system, so no host port, no other run's gateway and no address outside is
reachable from a step, whatever listens on the host, and no firewall rule is needed. Under gVisor the
runtime must be allowed to connect to a host socket (``--host-uds=open``, ``runtimes.py``).

    <tmp>/wave-sandbox-gateway-<run id>-<random>/
        owner           the run's owner (``<host>:<pid>:<start>``): a sweep removes the folder once it is dead
        socket/         mounted into the run's agent steps; mode 0711, listing refused
            gateway.sock    made by the gateway, mode 0600, owned by the steps' user

The temporary folder is used rather than the run's record folder because a socket's path is at most
107 bytes, and a record folder may be deep.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from wave_sandbox.errors import SandboxError
from wave_sandbox.sandbox.owner import owner_is_alive

__all__ = ["GatewaySocketFolder", "make_gateway_socket_folder", "remove_dead_gateway_socket_folders"]

logger = logging.getLogger(__name__)

FOLDER_PREFIX = "wave-sandbox-gateway-"
SOCKET_NAME = "gateway.sock"
_OWNER_FILE = "owner"
_SOCKET_PATH_MAX = 107  # sun_path holds 108 bytes, the last one a NUL
_OWNER_READ_LIMIT = 256
_OWNERLESS_GRACE_S = 60.0


@dataclass(frozen=True)
class GatewaySocketFolder:
    run_id: str
    root: Path

    @property
    def socket_path(self) -> Path:
        return self.root / "socket" / SOCKET_NAME

    def remove(self) -> None:
        """Remove the folder and what is in it (gone already is fine)."""
        try:
            shutil.rmtree(self.root)
        except FileNotFoundError:
            pass
        except OSError as error:
            raise SandboxError(f"could not remove the gateway socket folder {self.root}: {error}") from error


def _read_owner(path: Path) -> str | None:
    """The owner written in ``path`` when it is a regular file holding one (no link followed, no FIFO waited on)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        owner = os.read(descriptor, _OWNER_READ_LIMIT).decode("utf-8", "replace").strip()
    except OSError:
        return None
    finally:
        os.close(descriptor)
    return owner if owner.count(":") >= 2 else None


def temporary_base() -> Path:
    return Path(tempfile.gettempdir())


def make_gateway_socket_folder(run_id: str, owner: str, base: Path | None = None) -> GatewaySocketFolder:
    """A new folder for ``run_id``'s gateway socket, its owner written before it is returned.

    Raises:
        SandboxError: the folder could not be made, or its socket path would be too long.
    """
    base = base or temporary_base()
    try:
        root = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{run_id}-", dir=base))
    except OSError as error:
        raise SandboxError(f"could not make the gateway socket folder in {base}: {error}") from error
    folder = GatewaySocketFolder(run_id, root)
    try:
        if len(os.fsencode(folder.socket_path)) > _SOCKET_PATH_MAX:
            raise SandboxError(
                f"the gateway socket path {folder.socket_path} is longer than a Unix socket allows "
                f"({_SOCKET_PATH_MAX} bytes); set TMPDIR to a shorter folder"
            )
        (root / _OWNER_FILE).write_text(owner + "\n", encoding="utf-8")
        socket_folder = folder.socket_path.parent
        socket_folder.mkdir()
        os.chmod(socket_folder, 0o711)  # whatever the umask: the steps' user passes through, lists nothing
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return folder


def remove_dead_gateway_socket_folders(
    spared_run_ids: frozenset[str] = frozenset(), base: Path | None = None
) -> tuple[list[str], list[str]]:
    """Remove the socket folders whose owner process is gone: (the run ids removed, one line per failure).

    The temporary folder is shared with every user of the host, so only real folders of this user are
    considered (a link or another user's folder is passed over), and the owner file is read without
    following a link or waiting on a FIFO, 256 bytes at most. A folder without a valid owner is a run
    being set up this instant, or one killed between making the folder and writing its owner: it is left
    alone for a minute, then removed.
    """
    removed: list[str] = []
    failures: list[str] = []
    for root in sorted((base or temporary_base()).glob(FOLDER_PREFIX + "*")):
        run_id = root.name[len(FOLDER_PREFIX):].rsplit("-", 1)[0]
        try:
            folder = os.lstat(root)
        except OSError:
            continue
        if not stat.S_ISDIR(folder.st_mode) or folder.st_uid != os.geteuid():
            continue
        if run_id in spared_run_ids:
            continue
        owner = _read_owner(root / _OWNER_FILE)
        if owner is None and time.time() - folder.st_mtime < _OWNERLESS_GRACE_S:
            continue
        if owner is not None and owner_is_alive(owner):
            continue
        try:
            GatewaySocketFolder(run_id, root).remove()
        except SandboxError as error:
            failures.append(str(error))
            continue
        removed.append(run_id)
    return removed, failures
