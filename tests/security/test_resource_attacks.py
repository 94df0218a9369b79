"""Attacks on the host's processes, memory, disk and time, from inside a step's container.

One `wave-sandbox run` of five hostile steps, all with the small limits of the repository's
`attacker` persona (64 pids, 384 MiB, a 16 MiB /workspace):
- `forkbomb` forks as fast as it can; `memhog` allocates 2 GiB; `diskfill` fills every writable
  tmpfs; `flood` pours output into PID 1's stdout (the engine's log file on the host's disk) and
  into the agent's stderr (the exec stream the runner reads, saved as agent.log); `hang` stops its
  own agent and sleeps past its 20-second timeout, leaving a process behind.
Each test checks one of them from the host.

Under gVisor (runsc) the agent's processes live inside the sandbox, invisible to the host's process
table: the host watches the sandbox's own processes and its cgroup instead (``SandboxWatch``). There
the persona's pids limit is the guest's RLIMIT_NPROC and the cgroup caps the sandbox's host threads
(``runtimes.py``), and the memory limit's OOM kill ends the whole sandbox.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.integration.conftest import assert_run_left_nothing
from tests.security.attack_kit import (
    ContainerLogWatch,
    LiveRun,
    ProcessWatch,
    SandboxWatch,
    bash,
    count_processes,
    make_repository,
    probe,
    say,
    unique_marker,
    write_pipeline,
)
from wave_sandbox.sandbox.runtimes import gvisor_host_pids

pytestmark = pytest.mark.docker

LIMITS = {"cpus": 1.0, "memory_mb": 384, "pids": 64, "workspace_mb": 16}
# The fork bomb's target is the pids limit: under gVisor its 62 sleeping Pythons took 357 MiB of 384 with
# the old transport and reached 384 with the socket's (killed at the memory limit, not stopped at pids).
FORKER_LIMITS = LIMITS | {"memory_mb": 768}
TMPFS_CAPS_MIB = {"/workspace": LIMITS["workspace_mb"], "/tmp": 64, "/home/wave": 64, "/dev/shm": 64}
HANG_TIMEOUT_S = 40  # long enough for the agent to start its attack on a loaded 2-core machine
MEMHOG_TIMEOUT_S = 180  # the cap ends the hog in seconds; this only bounds the known runsc case below
FLOOD_MIB = 16
# What the runner may keep of an agent's stderr, and the engine of a container's own output.
AGENT_LOG_MAX_BYTES = 4 * 1024 * 1024
CONTAINER_LOG_MAX_BYTES = 1024 * 1024

FILL_EVERY_TMPFS = "\n".join([
    'report=""',
    f"for folder in {' '.join(TMPFS_CAPS_MIB)}; do",
    "  errors=$(dd if=/dev/zero of=$folder/fill bs=1M count=256 2>&1 >/dev/null | grep -c 'No space left on device')",
    '  report="$report$folder enospc=$errors bytes=$(wc -c < $folder/fill)\\n"',
    "  rm -f $folder/fill",
    "done",
    'printf "$report" > output/disk.txt',
])  # fmt: skip

FLOOD_THE_HOST = (
    f"head -c {FLOOD_MIB}M /dev/zero | tr '\\0' A > /proc/1/fd/1; echo pid1_stdout_rc=$? > output/flood.txt; "
    f"head -c {FLOOD_MIB}M /dev/zero | tr '\\0' B > /proc/$PPID/fd/2; echo agent_stderr_rc=$? >> output/flood.txt"
)

READ_OOM_COUNTERS = (
    "cat /sys/fs/cgroup/memory/memory.oom_control /sys/fs/cgroup/memory.events 2>/dev/null > output/oom.txt; true"
)


def hang_command(marker: str) -> str:
    # SIGSTOP on the agent takes its own deadline away: only the runner's clock is left.
    return f"setsid sleep {marker} >/dev/null 2>&1 </dev/null & kill -STOP $PPID; sleep 300"


def resource_pipeline() -> dict:
    def step(step_id, outputs, **extra):
        artifacts = [{"name": name, "path": f"output/{file}"} for name, file in outputs]
        persona = "forker" if step_id == "forkbomb" else "attacker"
        return {"id": step_id, "persona": persona, "exec": {"source": step_id},
                "output_artifacts": artifacts} | extra  # fmt: skip

    return {"kind": "WavePipeline", "metadata": {"name": "resource-attacks"}, "steps": [
        step("forkbomb", [("forks", "forkbomb.json"), ("after", "after.txt")]),
        step("memhog", [("survived", "mem-survived.txt"), ("progress", "mem-progress.txt"), ("oom", "oom.txt")],
             timeout_minutes=MEMHOG_TIMEOUT_S / 60),
        step("diskfill", [("disk", "disk.txt")]),
        step("flood", [("flood", "flood.txt")]),
        step("hang", [], timeout_minutes=HANG_TIMEOUT_S / 60),
    ]}  # fmt: skip


def resource_script(fork_marker: str, hang_marker: str) -> dict:
    allocate = probe("allocate_without_limit", "output/mem-progress.txt", "/dev/null",
                     then="&& echo survived > output/mem-survived.txt")  # fmt: skip
    return {"steps": {
        "forkbomb": [[bash(probe("fork_without_limit", fork_marker, "output/forkbomb.json"))],
                     [bash("cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null > output/after.txt; "
                           "echo alive >> output/after.txt")],
                     say("Fork bomb over")],
        "memhog": [[bash(allocate)], [bash(READ_OOM_COUNTERS)], say("Allocation over")],
        "diskfill": [[bash(FILL_EVERY_TMPFS)], say("Disks full")],
        "flood": [[bash(FLOOD_THE_HOST)], say("Flood over")],
        "hang": [[bash(hang_command(hang_marker))], say("never said")],
    }}  # fmt: skip


@pytest.fixture(scope="module")
def resources(tmp_path_factory, docker, agent_image, runtime):
    base = tmp_path_factory.mktemp("resources")
    repo = make_repository(base / "service", personas={"attacker": {"limits": LIMITS},
                                                                 "forker": {"limits": FORKER_LIMITS}})
    fork_marker, hang_marker = f"forkbomb-{unique_marker()}", unique_marker()
    pipeline, script = write_pipeline(base, resource_pipeline(), resource_script(fork_marker, hang_marker))
    watch = ProcessWatch([fork_marker, hang_marker])
    run = LiveRun(
        [str(pipeline), "--repo", str(repo), "--model", f"scripted:{script}", "--output", str(base / "out"),
         "--max-parallel", "5", "--runtime", runtime],
        cwd=base,
    )  # fmt: skip
    logs, sandboxes = ContainerLogWatch(docker, run), SandboxWatch(docker, run)
    try:
        exit_code = run.finish()
    finally:
        watch.stop()
        logs.stop()
        sandboxes.stop()
    return {
        "run": run, "exit_code": exit_code, "out": base / "out", "watch": watch, "logs": logs,
        "markers": {"fork": fork_marker, "hang": hang_marker}, "record": repo / ".wave" / "runs" / run.run_id,
        "runtime": runtime, "sandboxes": sandboxes,
    }  # fmt: skip


def artifact(resources, name: str) -> str:
    return (resources["out"] / name).read_text()


def test_the_run_reports_the_failed_steps_and_the_host_process_ends_cleanly(resources):
    run = resources["run"]
    assert resources["exit_code"] == 1, run.stderr
    assert run.events[-1]["state"] == "run_failed"
    assert "Traceback" not in run.stderr
    states = {step: run.step_event(step)["state"] for step in ("forkbomb", "memhog", "diskfill", "flood", "hang")}
    assert states == {"forkbomb": "completed", "memhog": "failed", "diskfill": "completed",
                      "flood": "completed", "hang": "failed"}, {step: run.step_event(step)["message"] for step in states}
    assert subprocess.run(["true"]).returncode == 0  # the host still forks


def test_the_run_leaves_no_docker_object_or_gateway_socket(resources, docker):
    assert_run_left_nothing(docker, resources["run"].run_id)


def test_a_fork_bomb_stops_at_the_pids_limit_and_the_step_still_ends(resources):
    forks = json.loads(artifact(resources, "forkbomb.json"))
    assert forks["forks"] < LIMITS["pids"] and forks["failures"] > 0 and forks["first_error"] == "EAGAIN", forks
    assert resources["run"].step_event("forkbomb")["state"] == "completed"
    if resources["runtime"] == "runsc":
        assert forks["forks"] >= 10, forks  # control: the bomb did fork, inside the sandbox
        most_host_pids = resources["sandboxes"].most_pids["forkbomb"]
        assert 60 <= most_host_pids <= gvisor_host_pids(LIMITS["pids"]), most_host_pids
        assert artifact(resources, "after.txt").split() == ["alive"]  # no cgroupfs inside gVisor
        assert resources["sandboxes"].processes_left()[resources["sandboxes"].container_ids["forkbomb"]] == 0
        return
    most_on_host = resources["watch"].most_seen[resources["markers"]["fork"]]
    assert 10 <= most_on_host <= LIMITS["pids"], most_on_host  # seen from the host, never past the limit
    assert artifact(resources, "after.txt").split() == [str(LIMITS["pids"]), "alive"]
    assert count_processes([resources["markers"]["fork"]]) == {resources["markers"]["fork"]: 0}


def test_allocating_without_limit_is_killed_at_the_memory_cap(resources):
    event = resources["run"].step_event("memhog")
    most_memory = resources["sandboxes"].most_memory.get("memhog", 0)
    assert 64 * 2**20 <= most_memory <= LIMITS["memory_mb"] * 2**20, most_memory  # reached, never past, the cap
    if resources["runtime"] == "runsc":  # the OOM kill ends the whole sandbox: no artifact to collect
        if event["message"].startswith("timed out after"):
            pytest.xfail("known since the lifeline PID 1 (session note): under runsc the cap holds (checked above) "
                         "but the OOM-killed step is noticed only at its timeout")
        assert "killed at its memory limit" in event["message"], event["message"]
        return
    assert "artifact 'survived' was not written" in event["message"], event["message"]
    reached = [int(line) for line in artifact(resources, "mem-progress.txt").split()]
    assert 64 <= reached[-1] < LIMITS["memory_mb"], reached
    oom_kills = re.search(r"oom_kill (\d+)", artifact(resources, "oom.txt"))
    assert oom_kills and int(oom_kills.group(1)) >= 1, artifact(resources, "oom.txt")


def test_filling_every_writable_folder_hits_enospc_at_its_cap(resources):
    lines = artifact(resources, "disk.txt").splitlines()
    found = {line.split()[0]: dict(item.split("=") for item in line.split()[1:]) for line in lines}
    assert set(found) == set(TMPFS_CAPS_MIB), lines
    for folder, cap_mib in TMPFS_CAPS_MIB.items():
        written = int(found[folder]["bytes"])
        assert found[folder]["enospc"] == "1", (folder, lines)
        assert (cap_mib - 1) * 1024 * 1024 <= written <= cap_mib * 1024 * 1024, (folder, written)


def test_output_poured_into_pid_1_does_not_fill_the_host_disk(resources):
    # PID 1 is the run's lifeline, another user's process (sandbox/lifeline.py): the agent can no longer
    # even open its stdout, the engine's container log; and what reaches that log stays capped.
    assert "pid1_stdout_rc=1" in artifact(resources, "flood.txt"), artifact(resources, "flood.txt")
    largest = resources["logs"].largest.get("flood", 0)
    assert largest <= CONTAINER_LOG_MAX_BYTES, f"the engine's log of the flood step grew to {largest} bytes"


def test_output_poured_into_the_agent_stderr_is_capped_on_the_host(resources):
    assert "agent_stderr_rc=0" in artifact(resources, "flood.txt")
    agent_log = resources["record"] / "steps" / "flood" / "agent.log"
    size = agent_log.stat().st_size
    assert size <= AGENT_LOG_MAX_BYTES, f"agent.log of the flood step is {size} bytes"


def test_a_step_that_stops_its_agent_and_hangs_is_killed_at_its_timeout(resources):
    event = resources["run"].step_event("hang")
    assert f"timed out after {HANG_TIMEOUT_S}s" in event["message"], event["message"]
    assert event["duration_ms"] < (HANG_TIMEOUT_S + 20) * 1000


def test_a_process_left_by_the_hanging_step_does_not_survive_it(resources):
    if resources["runtime"] == "runsc":  # the left process lives in the sandbox: the sandbox must not survive
        sandboxes = resources["sandboxes"]
        assert sandboxes.most_processes["hang"] >= 1, "control: the host must have seen the hang step's sandbox"
        assert sandboxes.processes_left()[sandboxes.container_ids["hang"]] == 0
        return
    marker = resources["markers"]["hang"]
    assert resources["watch"].most_seen[marker] >= 1, "control: the host must have seen the left process"
    assert count_processes([marker]) == {marker: 0}
