"""How an agent step's container reaches its run's gateway: its mount and its environment.

On a backend whose gateway listens on a Unix socket (Docker: steps have no network at all), the
socket's folder is mounted read-only at ``GATEWAY_SOCKET_FOLDER`` and the agent is told the socket's
path in ``GATEWAY_SOCKET_VARIABLE``; ``ANTHROPIC_BASE_URL`` is then a fixed name that is never looked up.
On a TCP gateway (the fake backend's loopback), ``ANTHROPIC_BASE_URL`` is its address. Either way the
step's token is ``ANTHROPIC_API_KEY``. Command steps, checkers and the preflight get none of this.

The agent reads the same variable (``wave_sandbox/agent/model_client.py``; a test ties the two).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from wave_sandbox.bind_mount import BindMount, MountRole
from wave_sandbox.gateway.server import Gateway

GATEWAY_SOCKET_FOLDER = "/run/wave-sandbox"
GATEWAY_SOCKET_VARIABLE = "WAVE_SANDBOX_GATEWAY_SOCKET"


@dataclass(frozen=True)
class GatewayReach:
    """The mounts and environment that let one agent step reach ``gateway`` with ``token``."""

    mounts: list[BindMount]
    environment: dict[str, str]


def gateway_reach(gateway: Gateway, token: str) -> GatewayReach:
    environment = {"ANTHROPIC_BASE_URL": gateway.base_url, "ANTHROPIC_API_KEY": token}
    if gateway.unix_socket is None:
        return GatewayReach([], environment)
    socket = Path(gateway.unix_socket)
    environment[GATEWAY_SOCKET_VARIABLE] = str(PurePosixPath(GATEWAY_SOCKET_FOLDER) / socket.name)
    return GatewayReach([BindMount(socket.parent, GATEWAY_SOCKET_FOLDER, True, MountRole.GATEWAY)], environment)
