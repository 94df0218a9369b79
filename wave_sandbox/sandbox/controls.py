"""Which of the sandbox's controls the current container engine cannot give, in one line each.

The full set (SECURITY.md) needs a rootful Linux Docker engine whose bridges are interfaces of this
host, so that ``firewall.py`` can shut a run's containers in with iptables rules, and whose cgroups
take memory, swap, pids and CPU limits. Rootless Docker and Podman keep their bridges in a network
namespace of their own, Docker Desktop in a VM, a remote ``DOCKER_HOST`` on another machine: rules
added here never see those packets. A step still runs on such an engine, with less; ``doctor``
lists what is missing and ``run`` should say so once (``reduced_controls``).

Gathering the facts (``engine_facts``) talks to the daemon; judging them (``missing_controls``) is
a pure function of those facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors

from wave_sandbox.sandbox import firewall
from wave_sandbox.sandbox.client import daemon_version, docker_host_url

__all__ = [
    "EngineFacts",
    "engine_facts",
    "engine_kind",
    "host_firewall_unavailable_reason",
    "missing_controls",
    "reduced_controls",
]

_BRIDGE_NAME_OPTION = "com.docker.network.bridge.name"
_HOST_INTERFACES = Path("/sys/class/net")
# Each cgroup limit as `docker info` reports it, and what is lost without it.
_CGROUP_LIMITS = (
    ("MemoryLimit", "memory limit", "a step can use all of the host's memory"),
    ("SwapLimit", "swap limit", "a step can swap on top of its memory limit"),
    ("PidsLimit", "pids limit", "a fork bomb in a step is not contained"),
    ("CpuCfsQuota", "CPU limit", "a step can use every CPU core"),
)


@dataclass(frozen=True)
class EngineFacts:
    """What the daemon says about itself, and what this host sees of it."""

    operating_system: str = ""
    security_options: list[str] = field(default_factory=list)
    component_names: list[str] = field(default_factory=list)
    """Names in ``docker version``'s components ("Engine", or "Podman Engine")."""
    engine_version: str = "?"
    """``docker version``'s Version."""
    docker_host: str = "unix:///var/run/docker.sock"
    cgroup_limits: dict[str, bool] = field(default_factory=dict)
    """``docker info``'s MemoryLimit, SwapLimit, PidsLimit and CpuCfsQuota."""
    runtimes: list[str] = field(default_factory=list)
    bridge_visible_here: bool = True
    """The default bridge's interface (docker0) is an interface of this host."""
    firewall_reason: str | None = None
    """``firewall.firewall_unavailable_reason()`` on this host."""


def engine_facts(client: docker.DockerClient) -> EngineFacts:
    """Ask the daemon (``info``, ``version``, the default bridge) and look at this host's interfaces."""
    info, version = client.info(), daemon_version(client)
    return EngineFacts(
        operating_system=str(info.get("OperatingSystem") or ""),
        security_options=list(info.get("SecurityOptions") or []),
        component_names=[str(c.get("Name", "")) for c in version.get("Components") or []],
        engine_version=str(version.get("Version", "?")),
        docker_host=docker_host_url(),
        cgroup_limits={key: bool(info.get(key, False)) for key, _, _ in _CGROUP_LIMITS},
        runtimes=sorted(info.get("Runtimes") or {}),
        bridge_visible_here=_default_bridge_is_here(client),
        firewall_reason=firewall.firewall_unavailable_reason(),
    )


def _default_bridge_is_here(client: docker.DockerClient) -> bool:
    """True when the engine's default bridge is an interface of this host (or there is none to judge by)."""
    try:
        options: dict[str, Any] = client.api.inspect_network("bridge").get("Options") or {}
    except docker.errors.APIError:
        return True  # no default bridge (Podman, some setups): the engine kind decides instead
    interface = options.get(_BRIDGE_NAME_OPTION)
    return interface is None or (_HOST_INTERFACES / interface).exists()


def engine_kind(facts: EngineFacts) -> str:
    """"docker", "rootless docker", "docker desktop", "podman" or "remote docker"."""
    if any("podman" in name.lower() for name in facts.component_names) or "podman" in facts.docker_host:
        return "podman"
    if "docker desktop" in facts.operating_system.lower():
        return "docker desktop"
    if any("rootless" in option for option in facts.security_options):
        return "rootless docker"
    if not facts.docker_host.startswith(("unix://", "npipe://")):
        return "remote docker"
    return "docker"


_KIND_WITHOUT_FIREWALL = {
    "podman": "Podman keeps its networks where this host's iptables rules do not apply",
    "docker desktop": "Docker Desktop runs the engine in a VM, out of reach of this host's iptables",
    "rootless docker": "rootless Docker keeps its bridges in its own network namespace, out of reach of iptables here",
    "remote docker": "the engine runs on another machine (DOCKER_HOST), out of reach of this host's iptables",
}


def host_firewall_unavailable_reason(facts: EngineFacts) -> str | None:
    """None when the run's firewall rules would hold on this engine, else why not (one line)."""
    kind = engine_kind(facts)
    if kind in _KIND_WITHOUT_FIREWALL:
        return f"{_KIND_WITHOUT_FIREWALL[kind]}: other host ports stay reachable from containers"
    if not facts.bridge_visible_here:
        return "the engine's bridges are not interfaces of this host: other host ports stay reachable from containers"
    return facts.firewall_reason


def missing_controls(facts: EngineFacts) -> list[str]:
    """One line per control this engine cannot give ("control: why, and what that leaves open")."""
    missing = []
    firewall_reason = host_firewall_unavailable_reason(facts)
    if firewall_reason:
        missing.append(f"host firewall: {firewall_reason}")
    for key, control, consequence in _CGROUP_LIMITS:
        if not facts.cgroup_limits.get(key, False):
            missing.append(f"{control}: the engine reports no {key} support (cgroups); {consequence}")
    if not _has_seccomp(facts.security_options):
        missing.append(
            "seccomp: the engine runs containers without a seccomp profile; every system call is open, "
            "fallocate among them (a step can reserve the host's disk through its read-write clone)"
        )
    return missing


def _has_seccomp(security_options: list[str]) -> bool:
    seccomp = [option for option in security_options if option.startswith("name=seccomp")]
    return bool(seccomp) and not any("profile=unconfined" in option for option in seccomp)


def reduced_controls(client: docker.DockerClient) -> list[str]:
    """The controls missing on ``client``'s engine (empty when the full set holds); see ``missing_controls``."""
    return missing_controls(engine_facts(client))
