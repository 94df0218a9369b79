"""Which controls the engine can give: `doctor` on the real daemon, and the judgement on other engines.

The judgement (``missing_controls``) is a pure function of what the daemon reports, so the engines
this machine does not run (rootless Docker, Docker Desktop, Podman, a remote daemon, missing cgroup
limits) are checked with the facts such a daemon reports.
"""

from __future__ import annotations

import dataclasses

import pytest

from tests.integration.conftest import run_cli
from wave_sandbox.sandbox.controls import (
    EngineFacts,
    engine_facts,
    engine_kind,
    missing_controls,
    reduced_controls,
)
from wave_sandbox.sandbox.runtimes import engine_runtimes

pytestmark = pytest.mark.docker

FULL_SET = EngineFacts(
    operating_system="Debian GNU/Linux 12 (bookworm)",
    security_options=["name=seccomp,profile=default"],
    component_names=["Engine", "containerd", "runc", "docker-init"],
    docker_host="unix:///var/run/docker.sock",
    cgroup_limits={"MemoryLimit": True, "SwapLimit": True, "PidsLimit": True, "CpuCfsQuota": True},
    runtimes=["runc"],
    bridge_visible_here=True,
    firewall_reason=None,
)


def with_changes(**changes) -> EngineFacts:
    return dataclasses.replace(FULL_SET, **changes)


def test_doctor_reports_exactly_the_controls_this_engine_cannot_give(tmp_path, docker):
    completed = run_cli("doctor", "--repo", str(tmp_path), cwd=tmp_path)
    reduced = [line.split(None, 2)[2] for line in completed.stdout.splitlines() if line.startswith("REDUCED")]
    assert reduced == reduced_controls(docker), completed.stdout
    if not reduced:
        assert any(line.startswith("ok      controls") for line in completed.stdout.splitlines()), completed.stdout
    gvisor = next(line for line in completed.stdout.splitlines() if line[8:].startswith("gvisor"))
    if "runsc" in engine_runtimes(docker):  # doctor tried a runsc container and says how it went
        assert gvisor.startswith("ok ") and "a runsc container starts" in gvisor, gvisor
    else:
        assert "no runsc runtime" in gvisor and "apt-get install runsc" in gvisor, gvisor


def test_this_engine_gives_the_full_set_the_attacker_suite_relies_on(docker):
    # A CI engine with less (rootless, no iptables) fails here with the list of what it lacks.
    assert reduced_controls(docker) == []
    assert engine_kind(engine_facts(docker)) == "docker"


def test_a_rootful_linux_engine_gives_the_full_set():
    assert missing_controls(FULL_SET) == []


@pytest.mark.parametrize(
    ("changes", "kind", "phrase"),
    [
        ({"security_options": ["name=seccomp,profile=default", "name=rootless"]}, "rootless docker", "rootless Docker"),
        ({"operating_system": "Docker Desktop"}, "docker desktop", "Docker Desktop"),
        ({"component_names": ["Podman Engine"]}, "podman", "Podman"),
        ({"docker_host": "unix:///run/user/1000/podman/podman.sock"}, "podman", "Podman"),
        ({"docker_host": "tcp://build-box:2376"}, "remote docker", "another machine"),
    ],
)
def test_engines_whose_bridges_are_not_here_cannot_take_host_firewall_rules(changes, kind, phrase):
    facts = with_changes(**changes)
    assert engine_kind(facts) == kind
    missing = missing_controls(facts)
    assert len(missing) == 1 and missing[0].startswith("host firewall: ") and phrase in missing[0], missing


def test_a_bridge_that_is_not_an_interface_here_means_no_host_firewall():
    missing = missing_controls(with_changes(bridge_visible_here=False))
    assert missing == [
        "host firewall: the engine's bridges are not interfaces of this host: other host ports stay reachable "
        "from containers"
    ]


def test_a_host_without_iptables_or_root_reports_why():
    reason = "not running as root: no host firewall rules, other host ports stay reachable from containers"
    assert missing_controls(with_changes(firewall_reason=reason)) == [f"host firewall: {reason}"]


def test_missing_cgroup_limits_and_seccomp_are_each_named():
    facts = with_changes(
        cgroup_limits={"MemoryLimit": True, "SwapLimit": False, "PidsLimit": False, "CpuCfsQuota": True},
        security_options=["name=seccomp,profile=unconfined"],
    )
    missing = missing_controls(facts)
    assert [line.split(":")[0] for line in missing] == ["swap limit", "pids limit", "seccomp"], missing
    assert "fork bomb" in missing[1]
