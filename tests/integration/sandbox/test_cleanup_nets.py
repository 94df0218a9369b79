"""The cleanup nets, each proved by polling the daemon: per step, per run, after a crash; and the sweep of
what runs of earlier versions left (a labelled network, firewall rules), made here as they made them."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.integration.conftest import run_objects
from wave_sandbox.errors import SandboxError
from wave_sandbox.sandbox import firewall
from wave_sandbox.sandbox.cleanup import ResourceRegistry, remove_labelled_resources
from wave_sandbox.sandbox.contract import BindMount
from wave_sandbox.sandbox.docker_sandbox import DockerSandbox
from wave_sandbox.sandbox.gateway_socket import remove_dead_gateway_socket_folders
from wave_sandbox.sandbox.labels import OWNER_LABEL, RUN_LABEL
from wave_sandbox.sandbox.owner import current_owner

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
    sandbox = DockerSandbox(docker, registry)
    first = sandbox.create(make_spec(agent_image, run_id=run_id))
    sandbox.create(make_spec(agent_image, run_id=run_id, step_id="second"))
    # A container the registry does not know keeps the first workspace volume busy: that removal fails.
    docker.api.remove_container(first.container_id, force=True)
    blocker_on_volume = docker.api.create_container(
        agent_image, ["sleep", "60"], labels={RUN_LABEL: run_id},
        host_config=docker.api.create_host_config(binds={first.volume_name: {"bind": "/w", "mode": "rw"}}),
    )["Id"]  # fmt: skip
    failures = registry.remove_all()
    assert len(failures) == 1 and first.volume_name in failures[0]
    left = run_objects(docker, {run_id})
    assert left["volumes"] == [first.volume_name] and len(left["containers"]) == 1  # the blocker alone
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
    assert not any(run_objects(docker, {dead_run}).values())
    assert live_registry.remove_all() == []


CRASHING_RUN = textwrap.dedent(
    """
    import sys, time
    from wave_sandbox.sandbox.backend import ContainerSpec, this_process_owner
    from wave_sandbox.sandbox.registry import get_backend
    backend = get_backend("docker")
    run_id, image, user = sys.argv[1:4]
    env = backend.prepare_run(run_id, this_process_owner())
    backend.create(ContainerSpec(run_id, "crash", image, env.network, user, {}, workspace_mb=8, memory_mb=128))
    print(env.gateway_socket, flush=True)
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
        socket_folder = Path(child.stdout.readline().strip()).parents[1]
        assert socket_folder.is_dir() and (socket_folder / "owner").is_file()
        assert remove_labelled_resources(docker, run_id).spared_runs == [run_id]  # its owner still runs
        assert run_id not in remove_dead_gateway_socket_folders()[0] and socket_folder.is_dir()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    report = remove_labelled_resources(docker, run_id)
    assert (len(report.containers), len(report.networks), len(report.volumes)) == (1, 0, 1)
    assert report.firewall_rules == 0 and report.failures == [] and "removed 1 containers" in report.summary()
    removed, failures = remove_dead_gateway_socket_folders()
    assert run_id in removed and failures == [] and not socket_folder.exists()


# ----- leftovers of earlier versions: a run network and firewall rules -----------------------------------
firewall_here = pytest.mark.skipif(
    firewall.firewall_unavailable_reason() is not None, reason="host firewall rules unavailable here"
)


def add_rule_of_earlier_version(run_id: str) -> list[str]:
    """A rule as earlier versions added (DROP on a bridge; this interface does not exist): its arguments."""
    rule = ["INPUT", "-i", "wsbx-testonly", "-m", "comment", "--comment", firewall.rule_comment(run_id), "-j", "DROP"]
    subprocess.run(["iptables", "-w", "-I", *rule], check=True, capture_output=True)
    return rule


def delete_rule_if_present(rule: list[str]) -> None:
    subprocess.run(["iptables", "-w", "-D", *rule], check=False, capture_output=True)


@contextlib.contextmanager
def rules_of_earlier_versions(*run_ids: str):
    rules = [add_rule_of_earlier_version(run_id) for run_id in run_ids]
    try:
        yield rules
    finally:
        for rule in rules:
            delete_rule_if_present(rule)


@pytest.fixture
def network_of_earlier_version(docker):
    """make(run_id, owner): an internal network labelled as earlier versions labelled a run's network."""
    made = []

    def make(run_id: str, owner: str):
        network = docker.networks.create(
            f"wave-sandbox-{run_id}-net", driver="bridge", internal=True,
            labels={RUN_LABEL: run_id, OWNER_LABEL: owner},
        )  # fmt: skip
        made.append(network)
        return network

    yield make
    for network in made:
        with contextlib.suppress(Exception):
            network.remove()


@firewall_here
def test_leftover_rules_are_removed_by_run_id(docker):
    run_id, other_run_id = new_run_id(), new_run_id()
    with rules_of_earlier_versions(run_id, run_id, other_run_id):
        assert {run_id, other_run_id} <= firewall.firewall_run_ids()
        assert firewall.remove_firewall_rules(run_id) == 2
        assert run_id not in firewall.firewall_run_ids() and other_run_id in firewall.firewall_run_ids()
        assert firewall.remove_firewall_rules(other_run_id) == 1
        assert firewall.remove_firewall_rules(other_run_id) == 0


@firewall_here
def test_the_sweep_removes_a_dead_earlier_runs_network_and_rules_and_spares_a_live_ones(docker, network_of_earlier_version):
    dead_run, live_run = new_run_id(), new_run_id()
    dead_network = network_of_earlier_version(dead_run, f"{os.uname().nodename}:999999999:1")
    live_network = network_of_earlier_version(live_run, current_owner())
    with rules_of_earlier_versions(dead_run, dead_run, live_run):
        removed = remove_labelled_resources(docker, dead_run)
        spared = remove_labelled_resources(docker, live_run)
        assert removed.networks == [dead_network.id] and removed.firewall_rules == 2 and removed.failures == []
        assert "removed 0 containers, 1 networks, 0 volumes, 2 firewall rules" in removed.summary()
        assert spared.spared_runs == [live_run] and not spared.removed_anything
        assert run_objects(docker, {live_run})["networks"] == [live_network.name]
        assert run_objects(docker, {live_run})["firewall rules"] == [live_run]
        assert not any(run_objects(docker, {dead_run}).values())


def test_the_sweep_removes_a_dead_earlier_runs_network_without_a_firewall(docker, network_of_earlier_version):
    """Where no rule could be made (no iptables, not root), the network alone is found and removed."""
    dead_run = new_run_id()
    network = network_of_earlier_version(dead_run, f"{os.uname().nodename}:999999999:1")
    report = remove_labelled_resources(docker, dead_run)
    assert report.networks == [network.id] and report.firewall_rules == 0 and report.failures == []
    assert not any(run_objects(docker, {dead_run}).values())
