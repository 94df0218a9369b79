"""Turn a step's `workspace.mount` entries into bind mounts and masks for its container.

Read-only mounts bind the user's folder itself (the kernel enforces read-only); read-write mounts
bind the run's clone instead, with the clone's `.git` bound read-only over it. The run records folder
is masked wherever a mount would show it, so no agent reads another step's or run's records; so are
secret-looking files (see `secrets`). Git's own files that hold a credential (`.git/config`, a
submodule's config, ..., also when `.git` itself is mounted) are shown as copies without it (see
`git_credentials`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from wave_sandbox.engine.records import runs_root
from wave_sandbox.workspace.clone import Clone
from wave_sandbox.workspace.git_credentials import redacted_git_files
from wave_sandbox.workspace.secrets import find_secret_files, secret_patterns


@dataclass(frozen=True)
class StepMount:
    """One mount as the runner hands it to the sandbox."""

    source: Path
    target: str
    read_only: bool
    is_git_metadata: bool = False
    is_attachment: bool = False


def _relative_inside(path: Path, folder: Path) -> PurePosixPath | None:
    try:
        return PurePosixPath(path.resolve().relative_to(folder.resolve()).as_posix())
    except ValueError:
        return None


def plan_step_mounts(
    mounts: list[tuple[Path, str, bool]], repo: Path, clone: Clone | None
) -> tuple[list[StepMount], list[str], dict[str, bytes]]:
    """From (resolved host source, target, read_only) triples, return the bind mounts, the paths to
    mask, and the redacted copies ({container path: content}) to show over git files with credentials."""
    planned: list[StepMount] = []
    masked: list[str] = []
    redacted: dict[str, bytes] = {}
    for host_source, target, read_only in mounts:
        if read_only or clone is None:
            planned.append(StepMount(host_source, target, True))
            masked.extend(_masks_for(host_source, target, repo))
            redacted.update(_redacted_copies(host_source, target))
            continue
        relative = _relative_inside(host_source, repo) or PurePosixPath(".")
        clone_source = clone.path / relative
        planned.append(StepMount(clone_source, target, False))
        masked.extend(
            str(PurePosixPath(target) / secret)
            for secret in find_secret_files(clone_source, secret_patterns(repo))
        )
        redacted.update(_redacted_copies(clone_source, target))
        git_inside = _relative_inside(clone.git_dir, clone_source)
        if git_inside is not None:
            planned.append(
                StepMount(clone.git_dir, str(PurePosixPath(target) / git_inside), True, is_git_metadata=True)
            )
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
