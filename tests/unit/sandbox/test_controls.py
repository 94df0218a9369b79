"""Which controls an engine cannot give, judged from its facts (no Docker: facts made here)."""

from __future__ import annotations

import dataclasses

import pytest

from wave_sandbox.sandbox.controls import (
    EngineFacts,
    engine_facts,
    engine_kind,
    missing_controls,
    socket_sharing_unavailable_reason,
)

LOCAL_DOCKER = EngineFacts(
    operating_system="Debian GNU/Linux 12 (bookworm)",
    security_options=["name=seccomp,profile=default"],
    component_names=["Engine", "containerd", "runc", "docker-init"],
    docker_host="unix:///var/run/docker.sock",
    cgroup_limits={"MemoryLimit": True, "SwapLimit": True, "PidsLimit": True, "CpuCfsQuota": True},
    runtimes=["runc"],
)


def facts(**changes) -> EngineFacts:
    return dataclasses.replace(LOCAL_DOCKER, **changes)


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({}, "docker"),
        ({"security_options": ["name=seccomp,profile=default", "name=rootless"]}, "rootless docker"),
        ({"component_names": ["Podman Engine"]}, "podman"),
    ],
)
def test_an_engine_on_this_host_can_mount_the_gateway_socket(changes, kind):
    engine = facts(**changes)
    assert engine_kind(engine) == kind
    assert socket_sharing_unavailable_reason(engine) is None
    assert not any(line.startswith("gateway socket:") for line in missing_controls(engine))


@pytest.mark.parametrize(
    ("changes", "kind", "said"),
    [
        ({"operating_system": "Docker Desktop"}, "docker desktop", "Docker Desktop runs the engine in a VM"),
        ({"docker_host": "tcp://10.0.0.2:2376"}, "remote docker", "the engine runs on another machine (DOCKER_HOST)"),
        ({"docker_host": "ssh://builder@ci"}, "remote docker", "the engine runs on another machine (DOCKER_HOST)"),
    ],
)
def test_an_engine_elsewhere_cannot_mount_the_gateway_socket_and_says_why_in_one_line(changes, kind, said):
    engine = facts(**changes)
    assert engine_kind(engine) == kind
    reason = socket_sharing_unavailable_reason(engine)
    assert reason.startswith(said) and "steps cannot reach their gateway" in reason and "\n" not in reason
    assert missing_controls(engine) == [f"gateway socket: {reason}"]


def test_the_full_set_misses_nothing_and_no_line_speaks_of_a_firewall():
    assert missing_controls(LOCAL_DOCKER) == []
    everything_missing = facts(operating_system="Docker Desktop", cgroup_limits={}, security_options=[])
    lines = missing_controls(everything_missing)
    assert len(lines) == 6 and not any("firewall" in line or "iptables" in line for line in lines)


class _Daemon:
    """What ``engine_facts`` asks a client: ``info`` and ``version``."""

    def info(self) -> dict:
        return {
            "OperatingSystem": "Debian GNU/Linux 12 (bookworm)",
            "Runtimes": {"runc": {"path": "runc"},
                         "runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=host", "--host-uds=open"]}},
        }

    def version(self) -> dict:
        return {"Version": "20.10.24", "Components": [{"Name": "Engine"}]}


def test_engine_facts_keep_each_runtimes_arguments():
    gathered = engine_facts(_Daemon())
    assert gathered.runtimes == ["runc", "runsc"]
    assert gathered.runtime_args == {"runc": [], "runsc": ["--network=host", "--host-uds=open"]}
