"""One internal Docker network per run: no route out, containers cannot reach each other.

The run's gateway binds on the network's gateway address (the host's side of the bridge), the
only address its containers can reach. ``--internal`` removes the route to anywhere else; ICC off
keeps the run's containers from talking to one another; host firewall rules (``firewall.py``)
close the host's other ports on that bridge. The bridge gets a name of our choosing so the rules
can match it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import docker
import docker.errors

from wave_sandbox.errors import SandboxError
from wave_sandbox.sandbox import firewall
from wave_sandbox.sandbox.cleanup import ResourceRegistry
from wave_sandbox.sandbox.labels import docker_object_name, resource_labels
from wave_sandbox.sandbox.removal import remove_network_if_present

logger = logging.getLogger(__name__)

# Linux interface names hold at most 15 characters.
_BRIDGE_NAME_PREFIX = "wsbx-"


@dataclass(frozen=True)
class RunNetwork:
    """The run's network as the gateway and the firewall need it."""

    name: str
    id: str
    gateway_ip: str
    subnet: str
    bridge_interface: str
    run_id: str
    firewalled: bool
    """True when the host's INPUT chain drops everything from this bridge but the gateway port."""


def create_run_network(
    client: docker.DockerClient,
    run_id: str,
    registry: ResourceRegistry,
    firewall_rules: bool | Callable[[], bool] = True,
) -> RunNetwork:
    """Create the run's internal network (registered at once) and, when possible, its DROP rule.

    With ``firewall_rules`` and a host that can take them, every packet from the bridge to the host
    is dropped until ``allow_gateway_port`` opens the gateway's port. ``firewall_rules`` may be a
    callable, asked once the network exists (the backend asks the engine's facts meanwhile); either
    way the rules are in before this returns, so before any container can join the network.
    """
    name = docker_object_name("net", run_id)
    bridge_interface = _BRIDGE_NAME_PREFIX + secrets.token_hex(5)
    network_id = _create_internal_network(client, name, bridge_interface, run_id)
    registry.add_network(network_id)
    gateway_ip, subnet = _gateway_and_subnet(client, network_id)
    wanted = firewall_rules() if callable(firewall_rules) else firewall_rules
    firewalled = wanted and firewall.firewall_unavailable_reason() is None
    if firewalled:
        registry.add_firewall_rules(run_id)
        firewall.drop_all_input_from_bridge(bridge_interface, run_id)
    return RunNetwork(name, network_id, gateway_ip, subnet, bridge_interface, run_id, firewalled)


def allow_gateway_port(network: RunNetwork, port: int) -> firewall.GatewayPortRule:
    """Open ``gateway_ip:port`` (TCP) to the run's containers; nothing to do on an unfirewalled network."""
    return firewall.restrict_network_to_gateway(network, port, network.run_id)


def remove_run_network(client: docker.DockerClient, network: RunNetwork, registry: ResourceRegistry) -> None:
    """Remove the network's firewall rules, then the network (containers on it must be gone)."""
    if network.firewalled:
        firewall.remove_firewall_rules(network.run_id)
        registry.forget_firewall_rules(network.run_id)
    remove_network_if_present(client, network.id)
    registry.forget_network(network.id)


def _create_internal_network(
    client: docker.DockerClient, name: str, bridge_interface: str, run_id: str
) -> str:
    try:
        created = client.api.create_network(
            name,
            driver="bridge",
            internal=True,
            labels=resource_labels(run_id),
            options={
                "com.docker.network.bridge.name": bridge_interface,
                "com.docker.network.bridge.enable_icc": "false",
            },
        )
    except docker.errors.APIError as exc:
        raise SandboxError(
            f"could not create the run network: {exc.explanation or exc}. "
            "If Docker has no address pools left, run 'wave-sandbox clean'."
        ) from exc
    return created["Id"]


def _gateway_and_subnet(client: docker.DockerClient, network_id: str) -> tuple[str, str]:
    try:
        ipam_configs = client.api.inspect_network(network_id)["IPAM"]["Config"] or []
    except docker.errors.APIError as exc:
        raise SandboxError(f"could not inspect the run network: {exc.explanation or exc}") from exc
    for config in ipam_configs:
        if config.get("Gateway") and ":" not in config["Gateway"]:
            return config["Gateway"].split("/")[0], config.get("Subnet", "")
    raise SandboxError(f"the run network {network_id[:12]} has no IPv4 gateway address")
