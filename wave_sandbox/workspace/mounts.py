"""Turn a step's `workspace.mount` entries into bind mounts and masks for its container.

Read-only mounts bind the user's folder itself (the kernel enforces read-only); read-write mounts
bind the run's clone instead, with the clone's `.git` bound read-only over it. The run records folder
is masked wherever a mount would show it, so no agent reads another step's or run's records; so are
secret-looking files (see `secrets`). Git's own files that hold a credential (`.git/config`, a
submodule's config, ..., also when `.git` itself is mounted) are shown as copies without it (see
`git_credentials`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path, PurePosixPath

from wave_sandbox.bind_mount import BindMount, MountRole
from wave_sandbox.errors import WorkspaceError
from wave_sandbox.workspace.clone import Clone
from wave_sandbox.workspace.git_credentials import redacted_git_files
from wave_sandbox.workspace.layout import runs_root
from wave_sandbox.workspace.secrets import find_secret_files, secret_patterns


def _relative_inside(path: Path, folder: Path) -> PurePosixPath | None:
    try:
        return PurePosixPath(path.resolve().relative_to(folder.resolve()).as_posix())
    except ValueError:
        return None


def plan_step_mounts(
    mounts: list[BindMount], repo: Path, clone: Clone | None
) -> tuple[list[BindMount], list[str], dict[str, bytes]]:
    """From the step's declared mounts (sources resolved on the host), return the bind mounts, the paths
    to mask, and the redacted copies ({container path: content}) to show over git files with credentials.

    A read-write mount needs the run's clone: without one it is an error, never a silent read-only mount.
    """
    planned: list[BindMount] = []
    masked: list[str] = []
    redacted: dict[str, bytes] = {}
    for mount in mounts:
        if mount.read_only:
            planned.append(mount)
            masked.extend(_masks_for(mount.source, mount.target, repo))
            redacted.update(_redacted_copies(mount.source, mount.target))
            continue
        if clone is None:
            raise WorkspaceError(
                f"the mount at {mount.target} is read-write but this run has no clone of {repo}"
            )
        relative = _relative_inside(mount.source, repo) or PurePosixPath(".")
        on_clone = replace(mount, source=clone.path / relative)
        planned.append(on_clone)
        masked.extend(
            str(PurePosixPath(mount.target) / secret)
            for secret in find_secret_files(on_clone.source, secret_patterns(repo))
        )
        redacted.update(_redacted_copies(on_clone.source, mount.target))
        git_inside = _relative_inside(clone.git_dir, on_clone.source)
        if git_inside is not None:
            git_target = str(PurePosixPath(mount.target) / git_inside)
            planned.append(BindMount(clone.git_dir, git_target, True, MountRole.GIT_METADATA))
    return planned, masked, redacted


def _redacted_copies(host_source: Path, target: str) -> dict[str, bytes]:
    return {str(PurePosixPath(target) / relative): copy for relative, copy in redacted_git_files(host_source).items()}


def _masks_for(host_source: Path, target: str, repo: Path) -> list[str]:
    """The run records folder and secret-looking files."""
    masks = []
    records = runs_root(repo)
    inside = _relative_inside(records, host_source)
    if inside is not None and records.is_dir():
        masks.append(str(PurePosixPath(target) / inside))
    for relative in find_secret_files(host_source, secret_patterns(repo)):
        masks.append(str(PurePosixPath(target) / relative))
    return masks
