"""One mount, one value from the pipeline's `workspace.mount` to the container.

    spec.models.Mount.to_bind_mount(repo)   source resolved, `read_only` decided from `mode` (here, once)
    workspace.mounts.plan_step_mounts       a read-write mount re-pointed at the run's clone, plus the
                                            clone's `.git` (read-only) and `--attach` files
    engine.step_execution                   the step's inputs (artifacts, step.json), read-only
    sandbox (Docker or fake)                binds each as it is

Nobody re-derives `read_only` on the way; a value is changed only with `dataclasses.replace`.
Top-level so that spec, workspace, engine and sandbox share it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class MountRole(StrEnum):
    """Why a mount is there: the prompt shows the declared ones and names the attachments."""

    DECLARED = "declared"
    """A step's `workspace.mount` (the repository or its clone)."""
    GIT_METADATA = "git_metadata"
    """The clone's `.git`, read-only over a read-write mount."""
    ATTACHMENT = "attachment"
    """An `--attach` file or folder."""
    STEP_INPUT = "step_input"
    """An injected artifact or the step description."""
    SKILL = "skill"
    """A Wave skill folder of the repository, read-only at /wave/skills/<name>."""
    GATEWAY = "gateway"
    """The folder of the run's gateway socket, read-only at /run/wave-sandbox (agent steps only)."""


@dataclass(frozen=True)
class BindMount:
    """A host path shown at ``target`` in the container; read-only unless asked otherwise."""

    source: Path
    target: str
    read_only: bool = True
    role: MountRole = MountRole.DECLARED
