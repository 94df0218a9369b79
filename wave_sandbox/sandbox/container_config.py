"""The hardened settings of a step's container, built from its ContainerSpec (no Docker calls here).

Every step gets them, no flag needed: the user of the spec, all capabilities dropped,
no-new-privileges, Docker's default seccomp profile without the calls that reserve disk blocks
(``seccomp_profile.py``), a read-only root filesystem, size-capped tmpfs for /tmp and the home folder, a
size-capped /workspace volume, memory without extra swap, CPU and pids limits, the run's internal
network (or none), the spec's runtime (``runtimes.py``: how gVisor takes the pids limit), the
image's init as PID 1 running the lifetime process (``lifeline.py``: it ends when the run's process
does, or after ``lifetime_s``), and an environment holding only the spec's
variables (docker-py's ``use_config_proxy`` would add the host's proxies).
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from docker.types import LogConfig, Mount

from wave_sandbox.errors import SandboxError
from wave_sandbox.sandbox.contract import HOME_DIR, WORKSPACE_DIR, BindMount, ContainerSpec
from wave_sandbox.sandbox.labels import resource_labels
from wave_sandbox.sandbox.lifeline import lifetime_command, lifetime_user
from wave_sandbox.sandbox.runtimes import GVISOR, runtime_host_config
from wave_sandbox.sandbox.seccomp_profile import seccomp_security_opt
from wave_sandbox.text_safety import printable_inline

logger = logging.getLogger(__name__)

# An empty tmpfs over a masked folder needs no room; the cap only stops writes (it is also read-only).
_MASK_TMPFS_OPTIONS = "ro,nosuid,nodev,noexec,size=4k,mode=0555"


@dataclass(frozen=True)
class MaskPlan:
    """Masked paths sorted by what hides them; paths missing on the host need no mask."""

    folders: list[str]
    files: list[str]
    replaced: dict[str, bytes] = field(default_factory=dict)
    """Files shown with other content: {container path: content}."""


def plan_masks(spec: ContainerSpec) -> MaskPlan:
    """Decide for each masked path whether a tmpfs (folder) or an empty file hides it.

    A masked path that is a symbolic link on the host is masked where it points, when that lies in
    the same mount (that is where the container will resolve it too); links leaving the mount and
    paths that do not exist are skipped, as the container cannot see anything there.

    Under gVisor a socket, FIFO or device node cannot have a file mounted over it (the sandbox would not
    start), yet it must be hidden: gVisor may connect to host sockets mounted into it (the gateway's).
    So its folder is hidden instead, with everything in it; one at the mount's top cannot be, and is
    refused in one line.
    """
    folders, files, replaced = [], [], {}
    for masked_path in spec.masked_paths:
        container_path, is_dir = _visible_path(masked_path, spec.mounts)
        if container_path is None:
            continue
        if spec.runtime == GVISOR and not is_dir and _is_special_file(masked_path, spec.mounts):
            container_path, is_dir = _folder_hiding(container_path, masked_path, spec.mounts), True
            if container_path in folders:
                continue
        (folders if is_dir else files).append(container_path)
    for replaced_path, content in spec.replaced_files.items():
        container_path, is_dir = _visible_path(replaced_path, spec.mounts)
        if container_path is not None and not is_dir and container_path not in files:
            replaced[container_path] = content
    return MaskPlan(folders=folders, files=files, replaced=replaced)


def _is_special_file(container_path: str, mounts: list[BindMount]) -> bool:
    """Whether the host file behind ``container_path`` (links followed) is a socket, FIFO or device node."""
    _mount, host_path = _host_path_of(container_path, mounts)
    try:
        mode = os.stat(host_path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _folder_hiding(visible_path: str, masked_path: str, mounts: list[BindMount]) -> str:
    """The folder to hide under gVisor in place of the special file at ``visible_path``."""
    folder = PurePosixPath(visible_path).parent
    if any(folder == PurePosixPath(m.target) for m in mounts) or folder == PurePosixPath("/"):
        raise SandboxError(
            f"{printable_inline(masked_path)} is a socket, FIFO or device at the top of a mounted folder: under gVisor it can be "
            "hidden only with its folder, which here is the whole mount; move it out of the repository (stop "
            "what listens there), or run with --runtime runc, which hides it alone"
        )
    logger.warning("under gVisor the folder %s is hidden from the step: it holds the socket or FIFO %s",
                   printable_inline(str(folder)), printable_inline(visible_path))
    return str(folder)


def _visible_path(container_path: str, mounts: list[BindMount]) -> tuple[str | None, bool]:
    """Where the container sees `container_path` once host links are followed, and whether it is a
    folder; None when it leaves its mount or does not exist."""
    mount, host_path = _host_path_of(container_path, mounts)
    resolved = Path(os.path.realpath(host_path))
    source = Path(os.path.realpath(mount.source))
    if not resolved.is_relative_to(source) or resolved == source or not resolved.exists():
        return None, False
    return str(PurePosixPath(mount.target) / resolved.relative_to(source).as_posix()), resolved.is_dir()


def _host_path_of(masked_path: str, mounts: list[BindMount]) -> tuple[BindMount, Path]:
    masked = PurePosixPath(masked_path)
    candidates = [m for m in mounts if masked.is_relative_to(m.target) and masked != PurePosixPath(m.target)]
    if not masked.is_absolute() or ".." in masked.parts or not candidates:
        raise SandboxError(
            f"masked path '{masked_path}' is not an absolute path strictly under a mount target"
        )
    mount = max(candidates, key=lambda m: len(PurePosixPath(m.target).parts))
    return mount, Path(mount.source) / masked.relative_to(mount.target)


def container_mounts(
    spec: ContainerSpec,
    volume_name: str,
    masks: MaskPlan,
    empty_file: Path | None,
    replacements: dict[str, Path] | None = None,
) -> list[Mount]:
    """The workspace volume, the spec's bind mounts, an empty read-only file over each masked file, and
    over each replaced file the host file holding its new content (``replacements``: container path -> host path)."""
    mounts = [Mount(WORKSPACE_DIR, volume_name, type="volume")]
    mounts += [Mount(m.target, str(m.source), type="bind", read_only=m.read_only) for m in spec.mounts]
    if masks.files and empty_file is None:
        raise SandboxError("masked files need an empty file to mount over them")
    mounts += [Mount(path, str(empty_file), type="bind", read_only=True) for path in masks.files]
    replacements = replacements or {}
    if set(masks.replaced) - set(replacements):
        raise SandboxError("replaced files need a host file each to mount over them")
    mounts += [Mount(path, str(replacements[path]), type="bind", read_only=True) for path in masks.replaced]
    return mounts


def container_tmpfs(spec: ContainerSpec, masks: MaskPlan) -> dict[str, str]:
    """Scratch space (/tmp, HOME) and the empty read-only tmpfs over each masked folder."""
    uid, gid = spec.uid_gid
    tmpfs = {
        "/tmp": f"rw,nosuid,nodev,size={spec.tmp_mb}m,mode=1777",
        HOME_DIR: f"rw,nosuid,nodev,size={spec.home_mb}m,mode=0700,uid={uid},gid={gid}",
    }
    tmpfs.update({path: _MASK_TMPFS_OPTIONS for path in masks.folders})
    return tmpfs


def container_environment(spec: ContainerSpec) -> dict[str, str]:
    """Exactly the spec's variables, plus HOME on its tmpfs unless the spec sets it."""
    return {"HOME": HOME_DIR, **spec.environment}


def host_config_arguments(
    spec: ContainerSpec,
    volume_name: str,
    masks: MaskPlan,
    empty_file: Path | None,
    replacements: dict[str, Path] | None = None,
) -> dict[str, Any]:
    """Keyword arguments of ``APIClient.create_host_config``."""
    memory = f"{spec.memory_mb}m"
    return {
        "mounts": container_mounts(spec, volume_name, masks, empty_file, replacements),
        "tmpfs": container_tmpfs(spec, masks),
        "read_only": True,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges", seccomp_security_opt()],
        "mem_limit": memory,
        "memswap_limit": memory,  # equal to the memory limit: no swap on top
        "nano_cpus": int(spec.cpus * 1_000_000_000),
        "network_mode": spec.network or "none",
        "ipc_mode": "private",
        "oom_score_adj": 500,  # under memory pressure, the kernel kills an agent before the host's processes
        # PID 1's output would go to the engine's log file on the host's disk, unbounded: keep none.
        "log_config": LogConfig(type=LogConfig.types.NONE),
        **runtime_host_config(spec.runtime, spec.pids),
    }


def create_container_arguments(spec: ContainerSpec, name: str, host_config: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of ``APIClient.create_container`` (the image's ENTRYPOINT is its init)."""
    return {
        "image": spec.image,
        "command": lifetime_command(spec.lifetime_s),
        "stdin_open": True,  # with StdinOnce: closed when the run's process (the one attach) is gone
        "name": name,
        "user": lifetime_user(spec.user),  # PID 1's; every exec runs as spec.user (lifeline.py says why)
        "working_dir": WORKSPACE_DIR,
        "environment": container_environment(spec),
        "labels": resource_labels(spec.run_id, spec.step_id),
        "host_config": host_config,
        # No network is network_mode "none" (loopback only). NetworkDisabled is not set as well: under gVisor
        # it leaves the sandbox's loopback unreachable (ENETUNREACH on 127.0.0.1), so a step could not run
        # a test server of its own, as it can under runc.
        "use_config_proxy": False,
        "stop_signal": "SIGKILL",
    }
