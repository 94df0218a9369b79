"""The orphan rule against an agent that wants to outlive its run.

A step's container stops by itself when the run's process ends, because PID 1's lifetime process
reads the stdin that only the run's process holds (sandbox/lifeline.py). The attacking agent tries
to keep it alive: it holds a second writer on that stdin through /proc/1/fd/0 and through the
lifetime process's own fd 0 (so the end-of-file never comes), and it stops the lifetime process
with SIGSTOP. Then the run's process is killed with SIGKILL: the container must still stop within
seconds. The attack's own log (read from inside the container) shows it found the lifetime process
and was refused each time.
"""

from __future__ import annotations

import time

import pytest

from tests.integration.engine.lifecycle_kit import seconds_until_stopped
from tests.security.attack_kit import LiveRun, bash, make_repository, say, unique_marker, write_pipeline
from wave_sandbox.sandbox.cleanup import remove_labelled_resources
from wave_sandbox.sandbox.labels import RUN_LABEL

pytestmark = pytest.mark.docker

ATTACK = """
L=$(pgrep -of '^bash -c read -r -t'); echo "lifetime=$L" > /tmp/attack
# setsid: the holders leave the tool call's process group, which the bash tool kills when the call ends.
setsid -f bash -c 'exec 3>/proc/1/fd/0 && echo pid1-stdin-held >> /tmp/attack && exec sleep 300' >/dev/null 2>>/tmp/attack
setsid -f bash -c "exec 3>/proc/$L/fd/0 && echo lifetime-stdin-held >> /tmp/attack && exec sleep 300" >/dev/null 2>>/tmp/attack
kill -STOP "$L" 2>>/tmp/attack && echo lifetime-stopped >> /tmp/attack
sleep 1; echo done >> /tmp/attack
"""


def lingering_pipeline(name: str) -> dict:
    return {"kind": "WavePipeline", "metadata": {"name": name}, "steps": [
        {"id": "linger", "persona": "navigator", "exec": {"source": "linger"}},
    ]}  # fmt: skip


@pytest.fixture(scope="module")
def attack(tmp_path_factory, docker, agent_image, runtime):
    base = tmp_path_factory.mktemp("lifeline")
    repo = make_repository(base / "service")
    marker = f"sleep 1{unique_marker()[-2:]}.7"
    script = {"steps": {"linger": [[bash(ATTACK)], [bash(marker)], say("never")]}}
    pipeline, script_file = write_pipeline(base, lingering_pipeline("lingering"), script)
    run = LiveRun([str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
                   "--output", str(base / "out"), "--runtime", runtime], cwd=base)  # fmt: skip
    seen: dict = {}
    try:
        run.wait_for_event("started", "linger")
        container = wait_for_container_running(docker, run.run_id, marker)
        seen["attack_log"] = docker.containers.get(container).exec_run(["cat", "/tmp/attack"]).output.decode()
        run.process.kill()  # SIGKILL: no finally and no handler of the run runs
        run.finish(30)
        seen["stopped_after_s"] = seconds_until_stopped(docker, container, 60)
    finally:
        if run.process.poll() is None:
            run.process.kill()
            run.finish(30)
        remove_labelled_resources(docker, run.run_id, is_run_alive=lambda _run_id: False)
    return seen


def wait_for_container_running(docker, run_id: str, marker: str, timeout_s: float = 120) -> str:
    """The step's container id, once its agent has finished the attack and sleeps in `marker`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for container in docker.api.containers(filters={"label": f"{RUN_LABEL}={run_id}"}):
            handle = docker.containers.get(container["Id"])
            if handle.exec_run(["pgrep", "-f", "--", marker]).exit_code == 0:
                return container["Id"]
        time.sleep(0.2)
    raise AssertionError(f"the agent never reached {marker}")


def test_the_attack_ran_and_found_the_lifetime_process(attack):
    log = attack["attack_log"]
    assert log.startswith("lifetime=") and log.split("\n")[0] != "lifetime=", log
    assert "done" in log, log


def test_the_agent_cannot_hold_the_stdin_nor_stop_the_lifetime_process(attack):
    log = attack["attack_log"]
    assert "pid1-stdin-held" not in log and "lifetime-stdin-held" not in log and "lifetime-stopped" not in log, log
    assert log.count("Permission denied") >= 2 and "Operation not permitted" in log, log


def test_the_orphaned_container_stops_within_seconds_anyway(attack):
    assert attack["stopped_after_s"] < 5, attack["stopped_after_s"]


