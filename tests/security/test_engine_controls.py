"""Which controls the engine can give: `doctor` on the real daemon, and the judgement on other engines.

The judgement (``missing_controls``) is a pure function of what the daemon reports, so the engines
this machine does not run (rootless Docker, Docker Desktop, Podman, a remote daemon, missing cgroup
limits) are checked with the facts such a daemon reports. Steps have no network and reach their gateway
through a Unix socket of this host mounted into them: an engine that runs its containers elsewhere (a
VM, another machine) cannot mount it; a rootless or Podman engine on this host can, and loses nothing.
"""

from __future__ import annotations

import dataclasses

import pytest

from tests.integration.conftest import run_cli
from wave_sandbox.errors import ConfigurationError
from wave_sandbox.sandbox.controls import (
    EngineFacts,
    engine_facts,
    engine_kind,
    missing_controls,
    reduced_controls,
    socket_sharing_unavailable_reason,
)
from wave_sandbox.sandbox.runtimes import GVISOR_RUNTIME_ARGS, chosen_runtime, engine_runtimes

pytestmark = pytest.mark.docker

FULL_SET = EngineFacts(
    operating_system="Debian GNU/Linux 12 (bookworm)",
    security_options=["name=seccomp,profile=default"],
    component_names=["Engine", "containerd", "runc", "docker-init"],
    docker_host="unix:///var/run/docker.sock",
    cgroup_limits={"MemoryLimit": True, "SwapLimit": True, "PidsLimit": True, "CpuCfsQuota": True},
    runtimes=["runc", "runsc"],
    runtime_args={"runsc": list(GVISOR_RUNTIME_ARGS)},
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
    # A CI engine with less (Docker Desktop, a remote daemon, no cgroup limits) fails here with the list.
    assert reduced_controls(docker) == []
    facts = engine_facts(docker)
    assert engine_kind(facts) == "docker" and socket_sharing_unavailable_reason(facts) is None
    if "runsc" in facts.runtimes:  # registered so that a step under gVisor can connect to its gateway's socket
        assert chosen_runtime("runsc", facts.runtimes, facts.runtime_args) == "runsc", facts.runtime_args


def test_a_rootful_linux_engine_gives_the_full_set():
    assert missing_controls(FULL_SET) == []


@pytest.mark.parametrize(
    ("changes", "kind", "phrase"),
    [
        ({"operating_system": "Docker Desktop"}, "docker desktop", "Docker Desktop runs the engine in a VM"),
        ({"docker_host": "tcp://build-box:2376"}, "remote docker", "the engine runs on another machine (DOCKER_HOST)"),
        ({"docker_host": "ssh://builder@ci"}, "remote docker", "the engine runs on another machine (DOCKER_HOST)"),
    ],
)
def test_engines_that_run_containers_elsewhere_cannot_mount_the_gateway_socket(changes, kind, phrase):
    facts = with_changes(**changes)
    assert engine_kind(facts) == kind
    missing = missing_controls(facts)
    reason = socket_sharing_unavailable_reason(facts)
    assert missing == [f"gateway socket: {reason}"] and reason.startswith(phrase) and "\n" not in reason, missing
    assert missing[0].endswith("steps cannot reach their gateway (they have no network)")


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"security_options": ["name=seccomp,profile=default", "name=rootless"]}, "rootless docker"),
        ({"component_names": ["Podman Engine"]}, "podman"),
        ({"docker_host": "unix:///run/user/1000/podman/podman.sock"}, "podman"),
    ],
)
def test_rootless_and_podman_engines_on_this_host_lose_no_control(changes, kind):
    # They used to lose the host firewall (their bridges live in a namespace of their own); a step with no
    # network and a socket of this host needs no firewall.
    facts = with_changes(**changes)
    assert engine_kind(facts) == kind
    assert socket_sharing_unavailable_reason(facts) is None and missing_controls(facts) == []


def test_runsc_registered_without_host_uds_is_refused_in_one_line():
    facts = with_changes(runtime_args={"runsc": ["--network=host"]})
    with pytest.raises(ConfigurationError) as refusal:
        chosen_runtime("runsc", facts.runtimes, facts.runtime_args)
    message = str(refusal.value)
    assert "\n" not in message and "registered without --host-uds=open" in message, message
    assert '"--host-uds=open"' in message and "daemon.json" in message


def test_missing_cgroup_limits_and_seccomp_are_each_named():
    facts = with_changes(
        cgroup_limits={"MemoryLimit": True, "SwapLimit": False, "PidsLimit": False, "CpuCfsQuota": True},
        security_options=["name=seccomp,profile=unconfined"],
    )
    missing = missing_controls(facts)
    assert [line.split(":")[0] for line in missing] == ["swap limit", "pids limit", "seccomp"], missing
    assert "fork bomb" in missing[1]
