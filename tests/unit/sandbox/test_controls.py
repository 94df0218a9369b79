"""Which controls an engine cannot give, judged from its facts (no Docker: facts made here); the judgement of
other engines' facts is in tests/security/test_engine_controls.py."""

from __future__ import annotations

import dataclasses

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


def test_the_full_set_misses_nothing_and_no_line_speaks_of_a_firewall():
    # (engines elsewhere, rootless Docker and Podman: tests/security/test_engine_controls.py)
    assert engine_kind(LOCAL_DOCKER) == "docker" and socket_sharing_unavailable_reason(LOCAL_DOCKER) is None
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
