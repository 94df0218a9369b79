"""The cleanup nets, each proved by polling the daemon: per step, per run, after a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.security.attack_kit import objects_of_run
from wave_sandbox.errors import SandboxError
from wave_sandbox.sandbox import firewall
from wave_sandbox.sandbox.cleanup import ResourceRegistry, remove_labelled_resources
from wave_sandbox.sandbox.contract import BindMount
from wave_sandbox.sandbox.docker_sandbox import DockerSandbox
from wave_sandbox.sandbox.labels import OWNER_LABEL, RUN_LABEL
from wave_sandbox.sandbox.networks import create_run_network

from .helpers import make_spec, new_run_id

pytestmark = pytest.mark.docker


def test_a_create_that_fails_at_create_or_start_removes_what_it_made(docker, agent_image, registry, tmp_path):
    sandbox = DockerSandbox(docker, registry)
    missing_source = [BindMount(tmp_path / "absent", "/src")]
    with pytest.raises(SandboxError, match="could not create"):
        sandbox.create(make_spec(agent_image, mounts=missing_source))
    unmountable_target = [BindMount(tmp_path, "/proc/planted")]
    with pytest.raises(SandboxError, match="could not start"):
        sandbox.create(make_spec(agent_image, mounts=unmountable_target))
    assert registry.is_empty


def test_the_registry_removes_everything_and_goes_on_past_a_failure(docker, agent_image):
    run_id = new_run_id()
    registry = ResourceRegistry(docker)
    network = create_run_network(docker, run_id, registry)
    sandbox = DockerSandbox(docker, registry)
    first = sandbox.create(make_spec(agent_image, run_id=run_id, network=network.name))
    sandbox.create(make_spec(agent_image, run_id=run_id, step_id="second"))
    # A container the registry does not know keeps the first workspace volume busy: that removal fails.
    docker.api.remove_container(first.container_id, force=True)
    blocker_on_volume = docker.api.create_container(
        agent_image, ["sleep", "60"], labels={RUN_LABEL: run_id},
        host_config=docker.api.create_host_config(binds={first.volume_name: {"bind": "/w", "mode": "rw"}}),
    )["Id"]  # fmt: skip
    failures = registry.remove_all()
    assert len(failures) == 1 and first.volume_name in failures[0]
    left = objects_of_run(docker, run_id)
    assert left["networks"] == [] and left["firewall rules"] == [] and left["volumes"] == [first.volume_name]
    docker.api.remove_container(blocker_on_volume, force=True)
    assert registry.remove_all() == [] and registry.remove_all() == [] and registry.is_empty


def test_clean_spares_a_live_run_and_removes_a_dead_one(docker, agent_image):
    live_run, dead_run = new_run_id(), new_run_id()
    live_registry = ResourceRegistry(docker)
    DockerSandbox(docker, live_registry).create(make_spec(agent_image, run_id=live_run))
    dead_owner = f"{os.uname().nodename}:999999999:1"
    docker.api.create_volume(
        name=f"wave-sandbox-{dead_run}-orphan", labels={RUN_LABEL: dead_run, OWNER_LABEL: dead_owner}
    )
    spared = remove_labelled_resources(docker, live_run)
    removed = remove_labelled_resources(docker, dead_run)
    assert spared.spared_runs == [live_run] and not spared.removed_anything
    assert removed.volumes == [f"wave-sandbox-{dead_run}-orphan"] and removed.spared_runs == []
    assert objects_of_run(docker, dead_run) == {
        "containers": [],
        "networks": [],
        "volumes": [],
        "firewall rules": [],
    }
    assert live_registry.remove_all() == []


CRASHING_RUN = textwrap.dedent(
    """
    import sys, time
    from wave_sandbox.sandbox.client import docker_client
    from wave_sandbox.sandbox.cleanup import ResourceRegistry
    from wave_sandbox.sandbox.docker_sandbox import DockerSandbox
    from wave_sandbox.sandbox.contract import ContainerSpec
    from wave_sandbox.sandbox.networks import create_run_network, allow_gateway_port
    client = docker_client()
    registry = ResourceRegistry(client)
    run_id, image, user = sys.argv[1:4]
    network = create_run_network(client, run_id, registry)
    allow_gateway_port(network, 40000)
    spec = ContainerSpec(run_id, "crash", image, network.name, user, {}, workspace_mb=8, memory_mb=128)
    DockerSandbox(client, registry).create(spec)
    print("ready", flush=True)
    time.sleep(120)
    """
)


def test_clean_after_a_kill_9_removes_everything_of_that_run(docker, agent_image):
    run_id = new_run_id()
    child = subprocess.Popen(
        [sys.executable, "-c", CRASHING_RUN, run_id, agent_image, make_spec(agent_image).user],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout.readline().strip() == "ready"
        assert remove_labelled_resources(docker, run_id).spared_runs == [run_id]  # its owner still runs
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    report = remove_labelled_resources(docker, run_id)
    assert (len(report.containers), len(report.networks), len(report.volumes)) == (1, 1, 1)
    assert report.firewall_rules == (3 if firewall.firewall_unavailable_reason() is None else 0)
    assert report.failures == [] and "removed 1 containers" in report.summary()
