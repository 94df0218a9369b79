"""Removing Docker objects: silent when already gone, patient with the engine's brief "in use".

Shared by ``DockerSandbox.destroy``, the per-run ``ResourceRegistry`` and ``clean``.
"""

from __future__ import annotations

import time

import docker
import docker.errors

from wave_sandbox.errors import SandboxError

# A volume stays "in use" for a moment after its container's removal returns; so may a network.
_IN_USE_RETRY_DEADLINE_S = 3.0
_IN_USE_RETRY_PAUSE_S = 0.1


def remove_container_if_present(client: docker.DockerClient, container_id: str) -> bool:
    """Kill and remove a container with its anonymous volumes; False when it was already gone."""
    try:
        client.api.remove_container(container_id, force=True, v=True)
    except docker.errors.NotFound:
        return False
    except docker.errors.APIError as exc:
        if "already in progress" in str(exc):
            return _wait_until_container_gone(client, container_id)
        raise SandboxError(f"could not remove container {container_id[:12]}: {_explain(exc)}") from exc
    return True


def remove_volume_if_present(client: docker.DockerClient, volume_name: str) -> bool:
    """Remove a volume; False when it was already gone."""
    return _retry_while_in_use(
        lambda: client.api.remove_volume(volume_name, force=True), f"volume {volume_name}"
    )


def remove_network_if_present(client: docker.DockerClient, network_id: str) -> bool:
    """Remove a network; False when it was already gone."""
    return _retry_while_in_use(lambda: client.api.remove_network(network_id), f"network {network_id[:12]}")


def _retry_while_in_use(remove, description: str) -> bool:
    deadline = time.monotonic() + _IN_USE_RETRY_DEADLINE_S
    while True:
        try:
            remove()
            return True
        except docker.errors.NotFound:
            return False
        except docker.errors.APIError as exc:
            busy = exc.status_code in (403, 409) or "in use" in str(exc) or "active endpoints" in str(exc)
            if not busy or time.monotonic() > deadline:
                raise SandboxError(f"could not remove {description}: {_explain(exc)}") from exc
            time.sleep(_IN_USE_RETRY_PAUSE_S)


def _wait_until_container_gone(client: docker.DockerClient, container_id: str) -> bool:
    deadline = time.monotonic() + _IN_USE_RETRY_DEADLINE_S
    while time.monotonic() < deadline:
        try:
            client.api.inspect_container(container_id)
        except docker.errors.NotFound:
            return True
        time.sleep(_IN_USE_RETRY_PAUSE_S)
    raise SandboxError(
        f"container {container_id[:12]} is still being removed after {_IN_USE_RETRY_DEADLINE_S:.0f}s"
    )


def _explain(exc: docker.errors.APIError) -> str:
    return str(exc.explanation or exc).strip().splitlines()[0][:300]
