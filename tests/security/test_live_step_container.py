"""A live step container seen from the host, and the third cleanup net after `kill -9`.

Run A's step sleeps in a tool call; while it does, `docker inspect` shows the container's effective
settings, and an exec as the step's user tries to reach run B's gateway socket (B starts beside it) by its
host path and by the path A's own socket has inside A. Then A's `wave-sandbox` process is killed with
SIGKILL (no finally runs), and `wave-sandbox clean` must remove everything of A, its gateway socket folder
included, while B keeps running and completes.

Under gVisor (runsc) a step's processes are invisible to the host's process table: the test asks the
container itself (an exec) whether the tool call runs, and reads PID 1 from inside; after `clean`,
no host process may still hold the killed container's id (its sandbox and gofer).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.integration.conftest import run_cli
from tests.security.attack_kit import (
    LiveRun,
    bash,
    count_processes,
    gateway_socket_folders,
    make_repository,
    objects_left_after,
    objects_of_run,
    say,
    unique_marker,
    wait_for_gateway_socket,
    write_pipeline,
)
from wave_sandbox.engine.gateway_reach import GATEWAY_SOCKET_FOLDER, GATEWAY_SOCKET_VARIABLE
from wave_sandbox.sandbox.cleanup import remove_labelled_resources
from wave_sandbox.sandbox.gateway_socket import GatewaySocketFolder
from wave_sandbox.sandbox.labels import RUN_LABEL
from wave_sandbox.sandbox.runtimes import gvisor_host_pids

pytestmark = pytest.mark.docker

NAVIGATOR_LIMITS = {"memory_mb": 1024, "pids": 256, "cpus": 1.0, "workspace_mb": 256}
ALLOWED_ENVIRONMENT = {"ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "HOME", "PATH", "LANG", "PYTHONPATH",
                       "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", GATEWAY_SOCKET_VARIABLE}  # fmt: skip
# Run as the step's user inside the live container: connect to each path, say how it went.
CONNECT_EACH = (
    "import socket, sys\n"
    "for path in sys.argv[1:]:\n"
    "    s = socket.socket(socket.AF_UNIX)\n"
    "    try:\n"
    "        s.connect(path); print(path, 'connected')\n"
    "    except OSError as error:\n"
    "        print(path, type(error).__name__)\n"
)
HOST_SECRET = "WAVE_TEST_SECRET_TOKEN"
SURVIVOR_SLEEP_S = 15


def napping_pipeline(name: str) -> dict:
    return {"kind": "WavePipeline", "metadata": {"name": name}, "steps": [
        {"id": "nap", "persona": "navigator", "exec": {"source": "nap"},
         "workspace": {"mount": [{"source": "./", "target": "/src", "mode": "readonly"}]}},
    ]}  # fmt: skip


def start_napping_run(folder: Path, repo: Path, sleep_argument: str, runtime: str, env: dict | None = None) -> LiveRun:
    folder.mkdir()
    script = {"steps": {"nap": [[bash(f"sleep {sleep_argument}")], say("Rested")]}}
    pipeline, script_file = write_pipeline(folder, napping_pipeline(folder.name), script)
    return LiveRun([str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
                    "--output", str(folder / "out"), "--runtime", runtime], cwd=folder, env=env)  # fmt: skip


def wait_for_process(docker, run: LiveRun, marker: str, runtime: str, timeout_s: float = 90) -> None:
    """Until the step runs a process with ``marker`` in its command line (its tool call)."""
    deadline = time.monotonic() + timeout_s
    while not step_runs_process(docker, run, marker, runtime):
        if time.monotonic() > deadline:
            raise AssertionError(f"no process with {marker} within {timeout_s} s")
        time.sleep(0.1)


def step_runs_process(docker, run: LiveRun, marker: str, runtime: str) -> bool:
    if runtime == "runc":  # the host sees the container's processes
        return count_processes([marker])[marker] > 0
    for container in docker.api.containers(filters={"label": f"{RUN_LABEL}={run.run_id}"}):
        if docker.containers.get(container["Id"]).exec_run(["pgrep", "-f", "--", marker]).exit_code == 0:
            return True
    return False


def pid1_command_line(docker, container: dict, runtime: str) -> list[str]:
    """PID 1 of the container as it sees itself (under gVisor, the host's pid is the sandbox's)."""
    if runtime == "runc":
        raw = Path(f"/proc/{container['State']['Pid']}/cmdline").read_bytes()
    else:
        raw = docker.containers.get(container["Id"]).exec_run(["cat", "/proc/1/cmdline"]).output
    return [part.decode() for part in raw.split(b"\0") if part]


def inspect_live_step(docker, run_id: str, runtime: str) -> dict:
    containers = docker.api.containers(filters={"label": f"{RUN_LABEL}={run_id}"})
    assert len(containers) == 1, containers
    container = docker.api.inspect_container(containers[0]["Id"])
    volume = next(m for m in container["Mounts"] if m["Destination"] == "/workspace")
    return {"container": container, "volume": docker.api.inspect_volume(volume["Name"]),
            "pid1": pid1_command_line(docker, container, runtime)}


def try_sockets_inside(docker, container: dict, user: str, paths: list[str]) -> dict[str, str]:
    """From inside ``container``, as ``user`` (its steps' user, as the agent): connect to each Unix socket path."""
    result = docker.containers.get(container["Id"]).exec_run(["python3", "-c", CONNECT_EACH, *paths], user=user)
    lines = result.output.decode().splitlines()
    return dict(line.rsplit(" ", 1) for line in lines if line.rsplit(" ", 1)[0] in paths)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, docker, agent_image, runtime):
    base = tmp_path_factory.mktemp("live")
    repo = make_repository(base / "service")
    killed_marker, survivor_marker = unique_marker(), f"{SURVIVOR_SLEEP_S}.{unique_marker()[5:]}"
    killed = start_napping_run(base / "killed", repo, killed_marker, runtime, env={HOST_SECRET: "wst-live-secret-0042"})
    survivor = None
    try:
        wait_for_process(docker, killed, killed_marker, runtime)
        seen = {"inspected": inspect_live_step(docker, killed.run_id, runtime)}
        survivor = start_napping_run(base / "survivor", repo, survivor_marker, runtime)
        wait_for_process(docker, survivor, survivor_marker, runtime)
        own_socket = f"{GATEWAY_SOCKET_FOLDER}/gateway.sock"
        seen["survivor_socket"] = str(wait_for_gateway_socket(survivor.run_id))
        killed_socket = wait_for_gateway_socket(killed.run_id)
        seen["killed_socket"], seen["killed_socket_folder"] = str(killed_socket), str(killed_socket.parent.parent)
        step_user = f"{killed_socket.stat().st_uid}:{killed_socket.stat().st_gid}"  # the socket is the step user's
        seen["sockets_from_inside"] = try_sockets_inside(
            docker, seen["inspected"]["container"], step_user,
            [own_socket, seen["survivor_socket"], seen["killed_socket"]],
        )  # fmt: skip
        seen["before_kill"] = objects_of_run(docker, killed.run_id)
        killed.process.kill()  # SIGKILL: no finally, no signal handler runs
        killed.finish(30)
        seen["after_kill"] = objects_of_run(docker, killed.run_id)
        seen["clean"] = run_cli("clean", "--repo", str(repo), cwd=base)
        seen["after_clean"] = objects_of_run(docker, killed.run_id)
        seen["survivor_after_clean"] = objects_of_run(docker, survivor.run_id)
        # Under gVisor the step's processes live in the sandbox, whose host processes carry the container id.
        left_behind = killed_marker if runtime == "runc" else seen["inspected"]["container"]["Id"]
        seen["killed_processes_after_clean"] = count_processes([left_behind])[left_behind]
        seen["survivor_exit_code"] = survivor.finish()
        seen["survivor_left"] = objects_left_after(docker, survivor.run_id)
    finally:
        for run in (killed, survivor):
            if run is not None:
                sweep_after(docker, run)
    return seen | {"killed": killed, "survivor": survivor, "runtime": runtime}


def sweep_after(docker, run: LiveRun) -> None:
    """Whatever went wrong above, leave nothing of ``run`` on the daemon for the tests after this one."""
    if run.process.poll() is None:
        run.process.kill()
        run.finish(30)
    for run_id in {event["run_id"] for event in run.events}:
        remove_labelled_resources(docker, run_id, is_run_alive=lambda _run_id: False)
        for folder in gateway_socket_folders(run_id):
            GatewaySocketFolder(run_id, Path(folder)).remove()


# ----- the effective settings of a live step container --------------------------------------------
def test_the_live_container_has_a_read_only_root_and_no_privileges(scenario):
    container = scenario["inspected"]["container"]
    host = container["HostConfig"]
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"] and not host["CapAdd"]
    assert any(option.startswith("no-new-privileges") for option in host["SecurityOpt"]), host["SecurityOpt"]
    assert host["Privileged"] is False and not host["Devices"]
    user = container["Config"]["User"]
    assert user and user.split(":")[0] not in ("0", "root"), user
    assert host["PidMode"] in ("", "private") and host["IpcMode"] == "private" and host["UsernsMode"] == ""


def test_the_live_container_has_the_personas_limits_and_no_extra_swap(scenario):
    host = scenario["inspected"]["container"]["HostConfig"]
    if scenario["runtime"] == "runsc":  # the guest's own limit, and a ceiling on the sandbox's host threads
        assert host["Runtime"] == "runsc"
        assert host["Ulimits"] == [{"Name": "nproc", "Soft": NAVIGATOR_LIMITS["pids"], "Hard": NAVIGATOR_LIMITS["pids"]}]
        assert host["PidsLimit"] == gvisor_host_pids(NAVIGATOR_LIMITS["pids"])
    else:
        assert host["PidsLimit"] == NAVIGATOR_LIMITS["pids"]
    assert host["Memory"] == NAVIGATOR_LIMITS["memory_mb"] * 1024 * 1024
    assert host["MemorySwap"] == host["Memory"]
    assert host["NanoCpus"] == int(NAVIGATOR_LIMITS["cpus"] * 1e9)


def test_the_live_container_runs_an_init_as_pid_1(scenario):
    assert scenario["inspected"]["pid1"][0].endswith("tini"), scenario["inspected"]["pid1"]


def test_the_live_container_has_no_network_and_its_own_runs_socket_folder_read_only(scenario):
    container = scenario["inspected"]["container"]
    assert container["HostConfig"]["NetworkMode"] == "none"
    assert container["NetworkSettings"]["Networks"].keys() <= {"none"}, container["NetworkSettings"]["Networks"]
    gateway = [m for m in container["Mounts"] if m["Destination"] == GATEWAY_SOCKET_FOLDER]
    assert len(gateway) == 1 and gateway[0]["Type"] == "bind" and gateway[0]["RW"] is False, gateway
    assert gateway[0]["Source"] == f"{scenario['killed_socket_folder']}/socket", gateway
    assert Path(scenario["killed_socket_folder"]).name.startswith(f"wave-sandbox-gateway-{scenario['killed'].run_id}-")
    assert f"{GATEWAY_SOCKET_VARIABLE}={GATEWAY_SOCKET_FOLDER}/gateway.sock" in container["Config"]["Env"]
    # Nothing else of the host that is a socket or holds one: the engine's socket least of all.
    sources = [m.get("Source", "") for m in container["Mounts"]]
    assert not [source for source in sources if "docker.sock" in source or source.startswith(("/run", "/var/run"))]


def test_a_step_reaches_its_own_gateway_socket_but_not_another_live_runs(scenario):
    reached = scenario["sockets_from_inside"]
    own = f"{GATEWAY_SOCKET_FOLDER}/gateway.sock"
    assert reached[own] == "connected", reached  # the control: the exec can connect where the agent does
    assert reached[scenario["survivor_socket"]] == "FileNotFoundError", reached  # run B's, live meanwhile
    assert reached[scenario["killed_socket"]] == "FileNotFoundError", reached  # its own, by its host path


def test_the_live_container_writes_only_to_capped_tmpfs_and_reads_the_repository_read_only(scenario):
    container, volume = scenario["inspected"]["container"], scenario["inspected"]["volume"]
    tmpfs = container["HostConfig"]["Tmpfs"]
    assert set(tmpfs) >= {"/tmp", "/home/wave"}
    assert all("size=" in tmpfs[path] and "nosuid" in tmpfs[path] for path in ("/tmp", "/home/wave")), tmpfs
    assert volume["Options"]["type"] == "tmpfs"
    assert f"size={NAVIGATOR_LIMITS['workspace_mb']}m" in volume["Options"]["o"]
    binds = [m for m in container["Mounts"] if m["Type"] == "bind"]
    assert binds and all(m["RW"] is False for m in binds), binds
    assert {m["Destination"] for m in binds} >= {"/src", "/wave/step.json"}


def test_the_live_container_holds_no_host_environment(scenario):
    environment = scenario["inspected"]["container"]["Config"]["Env"]
    names = {entry.split("=", 1)[0] for entry in environment}
    assert names <= ALLOWED_ENVIRONMENT, names - ALLOWED_ENVIRONMENT
    assert not [entry for entry in environment if HOST_SECRET in entry or "wst-live-secret" in entry]


# ----- kill -9, then clean ---------------------------------------------------------------------------
def test_a_killed_run_leaves_its_container_volume_and_gateway_socket_folder_behind(scenario):
    # The control: without `clean`, a SIGKILLed run's container, volume and socket folder stay.
    for kind in ("containers", "volumes", "gateway sockets"):
        assert scenario["after_kill"][kind], (kind, scenario["after_kill"])


def test_clean_removes_everything_of_the_killed_run(scenario):
    assert scenario["clean"].returncode == 0, scenario["clean"].stderr
    assert "gateway sockets" in scenario["after_clean"], scenario["after_clean"]
    assert not any(scenario["after_clean"].values()), scenario["after_clean"]
    assert "1 gateway sockets" in scenario["clean"].stdout, scenario["clean"].stdout
    assert scenario["killed_processes_after_clean"] == 0


def test_clean_spares_the_concurrent_run_which_then_completes(scenario):
    assert scenario["survivor_after_clean"]["containers"], scenario["survivor_after_clean"]
    assert scenario["survivor_after_clean"]["gateway sockets"], scenario["survivor_after_clean"]
    assert scenario["survivor"].run_id in scenario["clean"].stdout  # named among the spared live runs
    survivor = scenario["survivor"]
    assert scenario["survivor_exit_code"] == 0, survivor.stderr
    assert survivor.step_event("nap")["state"] == "completed"
    assert not any(scenario["survivor_left"].values()), scenario["survivor_left"]
