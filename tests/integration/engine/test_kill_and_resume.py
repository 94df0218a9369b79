"""kill -9 of a real `wave-sandbox run`: the truth about the run, orphans that stop by themselves, the
next command's sweep, and resume from the first unfinished step on the same branch.

The killed run is in its last step (`nap`, in `sleep`), after `plan` and the read-write `fix` (one
commit on the run's branch) finished. Nothing here restarts dockerd (other tests share it): what a
daemon restart leaves (no containers, no network of the run) is made by removing only this run's
objects with `docker rm -f`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.integration.conftest import git, run_cli
from tests.integration.engine.lifecycle_kit import (
    Scenario,
    containers_of,
    finish,
    seconds_until_stopped,
    wait_for,
    wait_until_step_sleeps,
)
from tests.security.attack_kit import objects_of_run
from wave_sandbox.engine.liveness import runtime_folder
from wave_sandbox.engine.run_ids import new_run_id
from wave_sandbox.sandbox.cleanup import remove_labelled_resources

pytestmark = pytest.mark.docker

NAP_MARKER = "sleep 117.3"
ORPHAN_STOPS_WITHIN_S = 5


@pytest.fixture(scope="module")
def killed(tmp_path_factory, docker, agent_image):
    scenario = Scenario(tmp_path_factory.mktemp("killed"), "killed")
    process = scenario.start(scenario.script(nap_command=NAP_MARKER))
    seen: dict = {"scenario": scenario}
    try:
        run_id = seen["run_id"] = scenario.only_run_id()
        wait_until_step_sleeps(docker, scenario, run_id, "nap", NAP_MARKER)
        [container] = containers_of(docker, run_id, running_only=True)
        seen["nap_container"] = container["Id"]
        os.killpg(process.pid, signal.SIGKILL)  # the run and nothing else of its session gets a chance to run
        process.wait(30)
        # No command runs in between: the container must stop by itself.
        seen["stopped_after_s"] = seconds_until_stopped(docker, container["Id"], 30)
        seen["objects_before_any_command"] = objects_of_run(docker, run_id)
        seen["runs"] = scenario.cli("runs", "--repo", str(scenario.repo))
        seen["objects_after_runs"] = objects_of_run(docker, run_id)
        seen["show"] = scenario.cli("show", run_id)
        seen["status"] = scenario.cli("status")
        seen["status_json"] = scenario.cli("status", run_id, "--json")
        seen["clone_after_sweep"] = (scenario.runs_folder / run_id / "clone").is_dir()
        seen["branch_before_resume"] = git(scenario.repo, "rev-parse", f"wave/killed/{run_id}").strip()
        seen["resume"] = scenario.cli("resume", run_id, "--model", f"scripted:{scenario.script()}")
        seen["record"] = scenario.record(run_id)
        seen["objects_after_resume"] = objects_of_run(docker, run_id)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return seen


def test_the_orphaned_step_container_stops_by_itself_within_seconds(killed):
    assert killed["stopped_after_s"] < ORPHAN_STOPS_WITHIN_S, killed["stopped_after_s"]


def test_a_killed_run_shows_as_interrupted_never_running(killed):
    run_id = killed["run_id"]
    assert killed["runs"].returncode == 0, killed["runs"].stderr
    [line] = [line for line in killed["runs"].stdout.splitlines() if line.startswith(run_id)]
    assert "interrupted (process ended)" in line and " running" not in line
    show = killed["show"].stdout
    assert f"Run {run_id}: killed interrupted (process ended)" in show, show
    assert [line.split()[:2] for line in show.splitlines() if line.startswith("  ")] == [
        ["plan", "completed"], ["fix", "completed"], ["nap", "interrupted"]]
    assert killed["status"].stdout.strip() == "No live runs."
    state = json.loads(killed["status_json"].stdout)
    assert (state["status"], state["reason"], state["alive"]) == ("interrupted", "process ended", False)


def test_the_next_command_sweeps_the_dead_runs_objects_but_keeps_its_clone(killed):
    before = killed["objects_before_any_command"]
    assert before["containers"] and before["volumes"], before  # the control: still there
    assert not any(killed["objects_after_runs"].values()), killed["objects_after_runs"]
    assert killed["clone_after_sweep"]


def test_resume_after_kill_9_continues_from_the_first_unfinished_step_on_the_same_branch(killed):
    resume = killed["resume"]
    assert resume.returncode == 0, resume.stderr + resume.stdout
    started = [line.split()[2] for line in resume.stdout.splitlines() if line.split()[1:2] == ["started"]]
    assert started == ["nap"], resume.stdout
    record, repo = killed["record"], killed["scenario"].repo
    assert record["status"] == "completed" and record["commits"] == [killed["branch_before_resume"]]
    assert git(repo, "rev-parse", record["branch"]).strip() == killed["branch_before_resume"]
    assert git(repo, "show", f"{record['branch']}:app.py") == "def handler():\n    return 200\n"
    assert not any(killed["objects_after_resume"].values()), killed["objects_after_resume"]


@pytest.fixture(scope="module")
def after_daemon_loss(tmp_path_factory, docker, agent_image):
    """Killed during the read-write step, after its edit; then the run's containers, network and
    volumes vanish as a dockerd restart makes them vanish; then resume with overrides."""
    scenario = Scenario(tmp_path_factory.mktemp("lost"), "lost")
    process = scenario.start(scenario.script(fix_command="sleep 118.4"), "--step-timeout", "300")
    seen: dict = {"scenario": scenario}
    try:
        run_id = seen["run_id"] = scenario.only_run_id()
        wait_until_step_sleeps(docker, scenario, run_id, "fix", "sleep 118.4")
        clone_app = scenario.runs_folder / run_id / "clone" / "app.py"
        seen["half_edit_in_clone"] = clone_app.read_text()
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
        remove_objects_of_run(docker, run_id)
        seen["objects_removed"] = objects_of_run(docker, run_id)
        seen["resume"] = scenario.cli("resume", run_id, "--model", f"scripted:{scenario.script()}",
                                      "--step-timeout", "120", "--max-parallel", "1")
        seen["record"] = scenario.record(run_id)
        seen["branches"] = git(scenario.repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/wave/").split()
        seen["objects_after_resume"] = objects_of_run(docker, run_id)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return seen


def remove_objects_of_run(docker, run_id: str) -> None:
    """What a daemon restart leaves of a run: nothing (only this run's objects are removed)."""
    labelled = {"label": f"wave-sandbox.run={run_id}"}
    for container in docker.api.containers(all=True, filters=labelled):
        docker.api.remove_container(container["Id"], force=True)
    for network in docker.api.networks(filters=labelled):
        docker.api.remove_network(network["Id"])
    for volume in docker.api.volumes(filters=labelled).get("Volumes") or []:
        docker.api.remove_volume(volume["Name"], force=True)


def test_resume_after_the_daemon_lost_the_runs_objects_reruns_the_step_on_a_rebuilt_clone(after_daemon_loss):
    assert "return 200" in after_daemon_loss["half_edit_in_clone"]  # the control: the clone held a half-made edit
    assert not any(after_daemon_loss["objects_removed"][kind] for kind in ("containers", "networks", "volumes"))
    resume = after_daemon_loss["resume"]
    assert resume.returncode == 0, resume.stderr + resume.stdout
    started = [line.split()[2] for line in resume.stdout.splitlines() if line.split()[1:2] == ["started"]]
    assert started == ["fix", "nap"], resume.stdout
    record = after_daemon_loss["record"]
    assert record["status"] == "completed" and len(record["commits"]) == 1
    assert after_daemon_loss["branches"] == [record["branch"]]
    assert (record["options"]["step_timeout_s"], record["options"]["max_parallel"]) == (120, 1)
    assert record["steps"]["fix"]["timeout_s"] == 120
    assert not any(after_daemon_loss["objects_after_resume"].values())


def test_the_no_network_orphan_rule_holds_for_a_bare_container_too(docker, agent_image):
    """A container with no network at all, made through the backend by a process then killed -9."""
    run_id = f"bare-{new_run_id()}"
    child = subprocess.Popen(
        [sys.executable, "-c", BARE_CONTAINER_MAKER, agent_image, run_id], stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        container_id = child.stdout.readline().strip()
        inspected = docker.api.inspect_container(container_id)
        assert inspected["HostConfig"]["NetworkMode"] == "none" and inspected["State"]["Running"]
        # The control: while its maker lives, it lives (its lifetime is 300 s).
        assert seconds_until_stopped(docker, container_id, 3) >= 3
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        assert seconds_until_stopped(docker, container_id, 30) < ORPHAN_STOPS_WITHIN_S
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        remove_labelled_resources(docker, run_id, is_run_alive=lambda _run_id: False)


BARE_CONTAINER_MAKER = """
import os, sys, time
from wave_sandbox.sandbox.docker_backend import DockerBackend
from wave_sandbox.sandbox.contract import ContainerSpec
uid_gid = f"{os.getuid() or 10001}:{os.getgid() or 10001}"
spec = ContainerSpec(sys.argv[2], "check", sys.argv[1], None, uid_gid, {}, workspace_mb=8, memory_mb=128,
                     lifetime_s=300)
handle = DockerBackend().create(spec)
print(handle.container_id, flush=True)
time.sleep(600)
"""


def test_a_failed_run_names_the_resume_command_and_resume_takes_a_new_step_timeout(tmp_path, docker, agent_image):
    scenario = Scenario(tmp_path, "slowfix")
    process = scenario.start(scenario.script(fix_command="sleep 30"), "--step-timeout", "3")
    stdout, stderr = finish(process, 180)
    run_id = scenario.only_run_id()
    assert process.returncode == 1, stderr
    assert stderr.rstrip().splitlines()[-1] == f"Resume with: wave-sandbox resume {run_id} --repo {scenario.repo}"
    resumed = scenario.cli("resume", run_id, "--step-timeout", "90", "--model", f"scripted:{scenario.script()}")
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    assert scenario.record(run_id)["status"] == "completed"
    assert scenario.record(run_id)["steps"]["fix"]["timeout_s"] == 90


def test_after_a_reboot_the_next_command_sweeps_what_dead_runs_left(docker, agent_image, tmp_path):
    """A reboot empties /tmp (no unheld lease is left) and changes the boot id; the stopped containers,
    networks and volumes of the runs it ended are still on the engine."""
    run_id = f"bare-{new_run_id()}"
    child = subprocess.Popen(
        [sys.executable, "-c", BARE_CONTAINER_MAKER, agent_image, run_id], stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        container_id = child.stdout.readline().strip()
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        seconds_until_stopped(docker, container_id, 30)
        assert objects_of_run(docker, run_id)["containers"]  # the control: what the dead run left is there
        (runtime_folder().parent / "boot-id").write_text("an-earlier-boot\n")
        listing = run_cli("runs", "--repo", str(tmp_path), cwd=tmp_path)
        assert listing.returncode == 0, listing.stderr
        assert not any(objects_of_run(docker, run_id).values())
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        remove_labelled_resources(docker, run_id, is_run_alive=lambda _run_id: False)
