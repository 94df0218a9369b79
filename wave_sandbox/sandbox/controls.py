"""Which of the sandbox's controls the current container engine cannot give, in one line each.

The full set (SECURITY.md) needs a Linux Docker engine on this host, so that a run's steps, which have
no network at all, can reach their gateway through a Unix socket bind-mounted from this host
(``gateway_socket.py``), and whose cgroups take memory, swap, pids and CPU limits. Docker Desktop runs
the engine in a VM and a remote ``DOCKER_HOST`` on another machine: a socket of this host cannot be
shared with their containers. A step still starts on such an engine, with less; ``doctor`` lists what
is missing and ``run`` says so once (``reduced_controls``).

Gathering the facts (``engine_facts``) talks to the daemon; judging them (``missing_controls``) is
a pure function of those facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import docker

from wave_sandbox.sandbox.client import daemon_version, docker_host_url

__all__ = [
    "EngineFacts",
    "engine_facts",
    "engine_kind",
    "missing_controls",
    "reduced_controls",
    "socket_sharing_unavailable_reason",
]

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
    runtime_args: dict[str, list[str]] = field(default_factory=dict)
    """Each runtime's ``runtimeArgs`` as the daemon was configured (``--host-uds=open`` for runsc)."""


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
        runtime_args={
            str(name): [str(arg) for arg in (runtime or {}).get("runtimeArgs") or []]
            for name, runtime in (info.get("Runtimes") or {}).items()
            if isinstance(runtime, dict)
        },
    )


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


_KIND_WITHOUT_SHARED_SOCKETS = {
    "docker desktop": "Docker Desktop runs the engine in a VM, where a socket of this host cannot be mounted",
    "remote docker": "the engine runs on another machine (DOCKER_HOST), where a socket of this host cannot be mounted",
}


def socket_sharing_unavailable_reason(facts: EngineFacts) -> str | None:
    """None when the run's gateway socket can be mounted into its steps on this engine, else why not."""
    kind = engine_kind(facts)
    if kind in _KIND_WITHOUT_SHARED_SOCKETS:
        return f"{_KIND_WITHOUT_SHARED_SOCKETS[kind]}: steps cannot reach their gateway (they have no network)"
    return None


def missing_controls(facts: EngineFacts) -> list[str]:
    """One line per control this engine cannot give ("control: why, and what that leaves open")."""
    missing = []
    socket_reason = socket_sharing_unavailable_reason(facts)
    if socket_reason:
        missing.append(f"gateway socket: {socket_reason}")
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
