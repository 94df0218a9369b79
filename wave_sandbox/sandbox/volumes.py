"""The per-step ``/workspace`` volume: a size-capped tmpfs owned by the step's user.

A tmpfs volume makes a write past the cap fail with ENOSPC inside the container instead of filling
the host's disk. Its content lives only while a container holds it mounted, so artifacts are
collected from the running container, before it is removed.
"""

from __future__ import annotations

import docker
import docker.errors

from wave_sandbox.errors import SandboxError
from wave_sandbox.sandbox.cleanup import ResourceRegistry
from wave_sandbox.sandbox.contract import ContainerSpec
from wave_sandbox.sandbox.labels import docker_object_name, resource_labels


def workspace_volume_options(spec: ContainerSpec) -> dict[str, str]:
    """Options of the local driver for a tmpfs of ``workspace_mb``, mode 0700, owned by the user."""
    uid, gid = spec.uid_gid
    return {
        "type": "tmpfs",
        "device": "tmpfs",
        "o": f"size={spec.workspace_mb}m,uid={uid},gid={gid},mode=0700,nosuid,nodev",
    }


def create_workspace_volume(
    client: docker.DockerClient, spec: ContainerSpec, registry: ResourceRegistry
) -> str:
    """Create the step's workspace volume, registered before anything else can fail; returns its name."""
    name = docker_object_name("workspace", spec.run_id, spec.step_id)
    try:
        client.api.create_volume(
            name=name,
            driver="local",
            driver_opts=workspace_volume_options(spec),
            labels=resource_labels(spec.run_id, spec.step_id),
        )
    except docker.errors.APIError as exc:
        raise SandboxError(
            f"could not create the workspace volume of step {spec.step_id}: {exc.explanation or exc}"
        ) from exc
    registry.add_volume(name)
    return name
