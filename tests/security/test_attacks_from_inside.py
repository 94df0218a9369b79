"""Attacks from inside a step's container on the host's files, secrets, network, processes and git.

One `wave-sandbox run` holds three hostile steps; each test checks one attack, on the host:
- `escape` (read-only /src): writes everywhere, hunts host secrets, reaches its gateway through its socket
  and then attacks that socket's folder, reaches for the host's listeners (on every host address, the
  default bridge's and loopback), another run's socket, the engine's socket, the cloud metadata address,
  the outside world and DNS, and leaves processes behind;
- `artifacts`: returns a symlink, a hard link, a FIFO, an oversize file, a file under a linked
  folder and a missing file, next to two good artifacts;
- `hooks` (read-write /src, after `escape`): plants git hooks and config for the host's commit and
  writes into an injected artifact.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import secrets
import socket
import tempfile
import time
from pathlib import Path

import pytest

from tests.security.attack_kit import (
    LiveRun,
    ProcessWatch,
    SandboxWatch,
    TcpListener,
    UdpListener,
    UnixListener,
    bash,
    count_processes,
    default_bridge_address,
    files_holding,
    host_ipv4_addresses,
    host_ipv6_addresses,
    host_nameservers,
    make_repository,
    probe,
    repository_state,
    say,
    unique_marker,
    write_pipeline,
)
from tests.integration.conftest import assert_run_left_nothing, git
from wave_sandbox.engine.gateway_reach import GATEWAY_SOCKET_VARIABLE

pytestmark = pytest.mark.docker

# A Unix socket a host service left in the user's working tree (a web server's, as Rails apps keep them):
# masked, its folder hidden under gVisor (one at the repository's top would refuse the step there).
REPOSITORY_SOCKET = "tmp/sockets/service.sock"
ENGINE_SOCKETS = ["/var/run/docker.sock", "/run/docker.sock", "/run/containerd/containerd.sock"]
METADATA_ADDRESS, OUTSIDE_ADDRESS = "169.254.169.254", "192.0.2.1"
OUTSIDE_PORT = 8080
WRITE_TARGETS = [
    "/src/app.py", "/src/planted.txt", "/src/.git/config", "/src/.git/hooks/pre-commit",
    "/src/.wave/runs/planted", "/src/.env", "/wave/step.json", "/wave/planted", "/etc/passwd",
    "/etc/planted", "/usr/local/bin/planted", "/planted", "/root/planted", "/var/tmp/planted",
    "/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    "/proc/sys/kernel/core_pattern",
]  # fmt: skip
# This session's host secrets: a token-like variable and a fake real API key (never used: the model is scripted).
HOST_SECRETS = {
    "secret": f"wst-host-secret-{secrets.token_hex(16)}",
    "api_key": f"sk-ant-api03-fake-{secrets.token_hex(20)}",
}
ARTIFACT_NAMES = ["good", "passwd_link", "hard", "fifo", "big", "under_link", "missing", "z_good"]
OVERSIZE_BYTES = 11 * 1024 * 1024


# ----- the hostile steps ------------------------------------------------------------------------
def network_targets(listeners: dict, outside_ip: str) -> str:
    """The reach_out probe's targets: each host listener on every address of the host, and the rest."""
    host_ips, host_ipv6 = host_ipv4_addresses(), host_ipv6_addresses()
    any_port, bridge, loopback = listeners["any"].port, listeners["bridge"], listeners["loopback"]
    tcp = [[ip, any_port] for ip in [*host_ips, "127.0.0.1"]]
    tcp += [[bridge.host, bridge.port], ["127.0.0.1", loopback.port], *[[ip, loopback.port] for ip in host_ips]]
    tcp += [[ip, listeners["ipv6"].port] for ip in [*host_ipv6, "::1"]]
    tcp += [[METADATA_ADDRESS, 80], [OUTSIDE_ADDRESS, 80], [outside_ip, OUTSIDE_PORT]]
    tcp += [[server, 53] for server in host_nameservers()]
    udp_port = listeners["udp"].port
    targets = {
        "tcp": tcp,
        "udp": [[ip, udp_port] for ip in [*host_ips, "127.0.0.1"]],
        "dns": [["127.0.0.11", "example.com"], ["8.8.8.8", "example.com"],
                *[[server, "example.com"] for server in host_nameservers()]],
        "unix": [listeners["decoy"].address, "@" + listeners["abstract"].address[1:], *ENGINE_SOCKETS,
                 f"/src/{REPOSITORY_SOCKET}"],
    }  # fmt: skip
    return json.dumps(targets)


def reach_out_command(targets: str) -> str:
    # The bash tool withholds ANTHROPIC_*; an attacker reads the socket and its token from its parent, the agent.
    discover = (
        f"SOCK=$(tr '\\0' '\\n' < /proc/$PPID/environ | sed -n 's/^{GATEWAY_SOCKET_VARIABLE}=//p'); "
        "KEY=$(tr '\\0' '\\n' < /proc/$PPID/environ | sed -n 's/^ANTHROPIC_API_KEY=//p'); "
    )
    return discover + probe("reach_out", f'"$SOCK" "$KEY" \'{targets}\'', "output/net.json")


def leave_processes_command(markers: dict[str, str]) -> str:
    return (
        f"nohup sleep {markers['nohup']} >/dev/null 2>&1 & "
        f"setsid sleep {markers['setsid']} >/dev/null 2>&1 </dev/null & "
        "setsid python3 -c 'import os, time\nif os.fork(): os._exit(0)\nos.setsid(); time.sleep(1000)' "
        f"{markers['daemon']} >/dev/null 2>&1 </dev/null & "
        "sleep 0.5; echo left them running"
    )


def list_processes_command(markers: dict[str, str]) -> str:
    pattern = "|".join(markers.values())
    return f"sleep 1; ps -eo pid,pgid,args | grep -E '{pattern}' | grep -v grep > output/procs.txt; true"


HOSTILE_ARTIFACTS_COMMAND = f"""cd /workspace/output
echo good > good.txt
echo also good > z-good.txt
ln -s /etc/passwd passwd-link.txt
echo original > /workspace/original.txt && ln /workspace/original.txt hard.txt
mkfifo fifo.txt
head -c {OVERSIZE_BYTES} /dev/zero > big.bin
rm -rf etc-dir && ln -s /etc etc-dir
ls -la"""


def plant_hooks_command(hook_marker: Path) -> str:
    hook = f"#!/bin/sh\\ntouch {hook_marker}\\n"
    return (
        "{ "
        f"mkdir -p /src/.git/hooks; printf '{hook}' > /src/.git/hooks/post-commit; echo hook_rc=$?; "
        "chmod +x /src/.git/hooks/post-commit; "
        "git -C /src config core.hooksPath .githooks; echo config_rc=$?; "
        f"mkdir -p /src/.githooks && printf '{hook}' > /src/.githooks/post-commit "
        "&& chmod +x /src/.githooks/post-commit; echo tree_hook_rc=$?; "
        "echo planted >> /wave/artifacts/writes; echo inject_rc=$?; "
        "echo '# the agent was here' >> /src/app.py; echo edit_rc=$?; "
        "} > output/hooks.txt 2>&1"
    )


def attack_pipeline() -> dict:
    read_only_repo = {"mount": [{"source": "./", "target": "/src", "mode": "readonly"}]}
    outputs = ["writes.json", "secrets.json", "net.json", "procs.txt"]
    artifact_paths = ["good.txt", "passwd-link.txt", "hard.txt", "fifo.txt", "big.bin", "etc-dir/passwd",
                      "missing.txt", "z-good.txt"]  # fmt: skip
    return {
        "kind": "WavePipeline",
        "metadata": {"name": "attacks"},
        "steps": [
            {"id": "escape", "persona": "navigator", "workspace": read_only_repo, "exec": {"source": "escape"},
             "output_artifacts": [{"name": name.split(".")[0], "path": f"output/{name}"} for name in outputs]},
            {"id": "artifacts", "persona": "navigator", "exec": {"source": "hostile artifacts"},
             "output_artifacts": [{"name": name, "path": f"output/{path}"}
                                  for name, path in zip(ARTIFACT_NAMES, artifact_paths, strict=True)]},
            {"id": "hooks", "persona": "craftsman", "dependencies": ["escape"],
             "workspace": {"mount": [{"source": "./", "target": "/src", "mode": "readwrite"}]},
             "memory": {"inject_artifacts": [{"step": "escape", "artifact": "writes", "as": "writes"}]},
             "exec": {"source": "plant hooks"}, "output_artifacts": [{"name": "hooks", "path": "output/hooks.txt"}]},
        ],
    }  # fmt: skip


def attack_script(targets: str, markers: dict[str, str], hook_marker: Path) -> dict:
    return {"steps": {
        "escape": [
            [bash(probe("write_anywhere", " ".join(WRITE_TARGETS), "output/writes.json"))],
            [bash(probe("hunt_secrets", "", "output/secrets.json"))],
            [bash(reach_out_command(targets))],
            [bash(leave_processes_command(markers))],
            [bash(list_processes_command(markers))],
            say("Escape attempts done"),
        ],
        "artifacts": [[bash(HOSTILE_ARTIFACTS_COMMAND)], say("Hostile artifacts ready")],
        "hooks": [[bash(plant_hooks_command(hook_marker))], say("Hooks planted")],
    }}  # fmt: skip


# ----- the run -------------------------------------------------------------------------------------
OUTSIDE_SERVER = (
    "import socket\n"
    "server = socket.create_server(('0.0.0.0', 8080))\n"
    "while True:\n"
    "    connection, peer = server.accept(); print('connection from', peer, flush=True); connection.close()\n"
)


@pytest.fixture(scope="module")
def outside_listener(docker, agent_image):
    """A listener in a plain container on Docker's default bridge: "the outside world" for a step."""
    container = docker.containers.run(
        agent_image, ["python3", "-c", OUTSIDE_SERVER], detach=True, network="bridge",
        labels={"wave-sandbox-test": "outside-listener"},
    )  # fmt: skip
    try:
        container.reload()
        address = container.attrs["NetworkSettings"]["IPAddress"]
        wait_until_listening(address, OUTSIDE_PORT)  # also the control: the host can reach it
        yield container, address
    finally:
        container.remove(force=True)


def wait_until_listening(host: str, port: int) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def open_host_listeners(docker, repo: Path) -> dict:
    """What listens on the host for a step to find: TCP on every address, on the default bridge's address
    only and on loopback only, TCP over IPv6, UDP, a Unix socket shaped like another run's gateway socket
    (anyone may connect to it), an abstract Unix socket, and a socket left in the user's repository."""
    decoy_root = Path(tempfile.mkdtemp(prefix="wave-sandbox-gateway-decoy-"))
    decoy_root.chmod(0o755)  # open to every user of the host: only not being mounted keeps a step out
    decoy_folder = decoy_root / "socket"
    decoy_folder.mkdir(mode=0o755)
    return {
        "any": TcpListener("0.0.0.0"), "bridge": TcpListener(default_bridge_address(docker)),
        "loopback": TcpListener("127.0.0.1"), "ipv6": TcpListener("::"), "udp": UdpListener("0.0.0.0"),
        "decoy": UnixListener(str(decoy_folder / "gateway.sock")),
        "abstract": UnixListener(f"\0wave-sandbox-test-{secrets.token_hex(6)}"),
        "repository": UnixListener(str(_parent_made(repo / REPOSITORY_SOCKET))),
    }  # fmt: skip


def _parent_made(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def close_host_listeners(listeners: dict) -> None:
    for listener in listeners.values():
        listener.close()
    decoy = Path(listeners["decoy"].address).parent.parent
    for path in (decoy / "socket" / "gateway.sock", decoy / "socket", decoy):
        path.unlink() if path.is_socket() else path.rmdir()
    (Path(listeners["repository"].address)).unlink()


@pytest.fixture(scope="module")
def attack(tmp_path_factory, docker, agent_image, outside_listener, runtime):
    base = tmp_path_factory.mktemp("attacks")
    repo = make_repository(base / "service")
    (repo / ".env").write_text(f"WAVE_TEST_SECRET_TOKEN={HOST_SECRETS['secret']}\n")
    listeners = open_host_listeners(docker, repo)
    before = repository_state(repo, ignored={Path(REPOSITORY_SOCKET).name})
    passwd_before = hashlib.sha256(Path("/etc/passwd").read_bytes()).hexdigest()
    markers = {"nohup": unique_marker(), "setsid": unique_marker(), "daemon": f"daemon-{secrets.token_hex(6)}"}
    hook_marker = base / "hook-ran"
    targets = network_targets(listeners, outside_listener[1])
    pipeline, script = write_pipeline(base, attack_pipeline(), attack_script(targets, markers, hook_marker))
    watch = ProcessWatch(list(markers.values()))
    run = LiveRun(
        [str(pipeline), "--repo", str(repo), "--model", f"scripted:{script}", "--output", str(base / "out"),
         "--max-parallel", "3", "--runtime", runtime],
        cwd=base, env={"WAVE_TEST_SECRET_TOKEN": HOST_SECRETS["secret"], "ANTHROPIC_API_KEY": HOST_SECRETS["api_key"]},
    )  # fmt: skip
    sandboxes = SandboxWatch(docker, run)
    try:
        exit_code = run.finish()
    finally:
        watch.stop()
        sandboxes.stop()
        close_host_listeners(listeners)
    return {
        "run": run, "exit_code": exit_code, "repo": repo, "out": base / "out", "before": before,
        "passwd_before": passwd_before, "listeners": listeners,
        "watch": watch, "markers": markers, "hook_marker": hook_marker, "values": HOST_SECRETS,
        "record": repo / ".wave" / "runs" / run.run_id, "outside": outside_listener[0], "runtime": runtime,
        "sandboxes": sandboxes,
    }  # fmt: skip


def artifact(attack, name: str) -> str:
    return (attack["out"] / name).read_text()


def decoded_dump(attack) -> dict[str, bytes]:
    """Every source the hunt read, decoded (sources it could not read are left out)."""
    dump = json.loads(artifact(attack, "secrets.json"))
    return {source: binascii.unhexlify(value) for source, value in dump.items() if not value.startswith("error")}


# ----- the run as a whole ------------------------------------------------------------------------
def test_the_attack_run_ends_with_each_step_where_expected(attack):
    run = attack["run"]
    assert attack["exit_code"] == 1, run.stderr  # the artifacts step fails on purpose
    for step in ("escape", "hooks"):
        assert run.step_event(step)["state"] == "completed", (step, run.step_event(step)["message"])
    assert run.step_event("artifacts")["state"] == "failed"
    assert "Traceback" not in run.stderr


def test_a_step_whose_mount_holds_a_masked_file_still_delivers_its_artifacts(attack):
    # The repository holds a `.env`, masked by an empty file mounted over it; the engine mounts
    # that file again whenever it copies an artifact out, so it must outlive the step's container.
    escape = attack["run"].step_event("escape")
    assert "was not written" not in escape["message"], escape["message"]
    assert len(escape["artifacts"]) == 4


def test_the_attack_run_leaves_no_docker_object_or_gateway_socket(attack, docker):
    assert_run_left_nothing(docker, attack["run"].run_id)


# ----- writing outside what is writable -----------------------------------------------------------
def test_writes_outside_the_workspace_all_fail(attack):
    writes = json.loads(artifact(attack, "writes.json"))["writes"]
    assert set(writes) == set(WRITE_TARGETS)
    assert not [path for path, outcome in writes.items() if outcome == "written"], writes
    # gVisor checks permissions before the read-only mount: a file the agent's user does not own
    # answers EACCES there. The hooks step's read-only .git, owned by that user, shows EROFS under both.
    refusals = ("EROFS", "EACCES") if attack["runtime"] == "runsc" else ("EROFS",)
    assert "ro" in json.loads(artifact(attack, "writes.json"))["root_mount"].split(",")
    for path in ("/src/app.py", "/src/planted.txt", "/src/.git/config", "/src/.wave/runs/planted",
                 "/src/.env", "/wave/step.json", "/etc/passwd", "/etc/planted", "/planted"):  # fmt: skip
        assert writes[path] in refusals, (path, writes[path])


def test_the_host_repository_and_passwd_are_unchanged_after_the_write_attacks(attack):
    assert repository_state(attack["repo"], ignored={Path(REPOSITORY_SOCKET).name}) == attack["before"]
    assert not (attack["repo"] / "planted.txt").exists()
    assert hashlib.sha256(Path("/etc/passwd").read_bytes()).hexdigest() == attack["passwd_before"]


def test_the_agent_holds_no_privilege_to_escalate_with(attack):
    report = json.loads(artifact(attack, "writes.json"))
    assert report["uid"] != 0
    assert int(report["CapEff"], 16) == 0 and int(report["CapBnd"], 16) == 0
    assert report["no_new_privs"] == 1
    assert report["NoNewPrivs"] == ("1" if attack["runtime"] == "runc" else None)  # gVisor's status lacks the line
    assert report["setuid_files"] == [] and report["executables_found"] > 10


# ----- reading host secrets ---------------------------------------------------------------------------
def test_no_host_secret_is_visible_anywhere_in_the_container(attack):
    dump = decoded_dump(attack)
    agent_environments = [text for source, text in dump.items() if b"ANTHROPIC_BASE_URL=" in text]
    assert agent_environments, "control: the hunt must read the agent's own environment"
    values = attack["values"]
    leaks = [source for source, text in dump.items()
             if values["secret"].encode() in text or values["api_key"].encode() in text
             or b"WAVE_TEST_SECRET_TOKEN" in text and source != "/src/.env"]  # fmt: skip
    assert leaks == []


def test_the_real_api_key_never_reaches_the_container_even_with_a_scripted_model(attack):
    dump = decoded_dump(attack)
    keys = {line.split(b"=", 1)[1] for text in dump.values() for line in text.replace(b"\0", b"\n").splitlines()
            if line.startswith(b"ANTHROPIC_API_KEY=")}  # fmt: skip
    assert keys, "control: the agent's step token must be found"
    assert attack["values"]["api_key"].encode() not in keys
    assert all(key.startswith(b"wst-") for key in keys), keys  # only the gateway's step token


def test_a_dot_env_file_in_the_repository_reads_empty(attack):
    assert json.loads(artifact(attack, "secrets.json"))["/src/.env"] == ""
    assert attack["values"]["secret"] in (attack["repo"] / ".env").read_text()  # the host's file is untouched
    assert "masked 1 secret-looking file" in attack["run"].stderr


def test_no_host_secret_lands_in_any_file_the_run_wrote(attack):
    needles = [attack["values"]["secret"].encode(), attack["values"]["api_key"].encode()]
    assert files_holding(attack["record"], needles) == []
    assert files_holding(attack["out"], needles) == []
    assert "redacted" not in attack["run"].stderr  # nothing leaked that the last pass had to catch


# ----- reaching the network -----------------------------------------------------------------------------
def network_results(attack) -> dict[str, str]:
    return json.loads(artifact(attack, "net.json"))


def test_the_probe_reaches_its_own_gateway_through_its_socket(attack):
    # The control: the probe can reach and tell apart its gateway, so what it cannot reach below is shut.
    results = network_results(attack)
    assert results["gateway with token"].startswith("answered ") and " 401 " not in results["gateway with token"], results
    assert results["gateway without token"].startswith("answered 401 wave-sandbox gateway: missing or invalid step token")
    assert results["gateway after the attacks"] == results["gateway with token"]  # the socket survived them


def test_the_step_has_only_loopback_no_route_and_no_dns(attack):
    results = network_results(attack)
    assert results["interfaces"] == ["lo"], results["interfaces"]
    assert results["routes"] == [], results["routes"]
    for destination in ("8.8.8.8", "169.254.169.254", "2001:4860:4860::8888"):
        # gVisor answers EADDRNOTAVAIL for IPv6: the sandbox has no IPv6 address to send from, let alone a route
        assert results[f"route {destination}"] in ("ENETUNREACH", "EHOSTUNREACH", "EADDRNOTAVAIL"), (destination, results)
    assert not results["resolve example.com"].startswith("resolved"), results["resolve example.com"]
    answers = {probe: outcome for probe, outcome in results.items() if probe.startswith("dns ")}
    assert len(answers) >= 3 and all(outcome.startswith("no answer") for outcome in answers.values()), answers


def test_host_listeners_on_every_address_see_no_connection(attack):
    listeners, results = attack["listeners"], network_results(attack)
    tried = [probe for probe in results if probe.startswith(("tcp ", "udp "))]
    for kind in ("any", "bridge", "loopback", "ipv6"):
        assert listeners[kind].peers == [], (kind, listeners[kind].peers, results)
        assert any(probe.endswith(f":{listeners[kind].port}") for probe in tried), kind
    assert listeners["udp"].datagrams == [], results
    assert f"tcp {listeners['bridge'].host}:{listeners['bridge'].port}" in results  # the default bridge (docker0)
    assert f"tcp 127.0.0.1:{listeners['loopback'].port}" in results  # the container's loopback is its own
    assert not [probe for probe in tried if results[probe] in ("connected",)], results


def test_metadata_and_outside_addresses_and_other_containers_are_unreachable(attack):
    results = network_results(attack)
    outside_ip = attack["outside"].attrs["NetworkSettings"]["IPAddress"]
    for target in (f"{METADATA_ADDRESS}:80", f"{OUTSIDE_ADDRESS}:80", f"{outside_ip}:{OUTSIDE_PORT}"):
        assert results[f"tcp {target}"] in ("ENETUNREACH", "EHOSTUNREACH"), (target, results)
    connections = attack["outside"].logs().decode().splitlines()
    assert len(connections) == 1, connections  # only the host's own check before the run


def test_another_runs_socket_the_engines_socket_and_abstract_sockets_are_out_of_reach(attack):
    listeners, results = attack["listeners"], network_results(attack)
    for address in (listeners["decoy"].address, *ENGINE_SOCKETS):
        assert results[f"unix {address}"] == "ENOENT", (address, results[f"unix {address}"])
    abstract = "@" + listeners["abstract"].address[1:]
    assert results[f"unix {abstract}"] == "ECONNREFUSED", results[f"unix {abstract}"]  # another namespace's
    assert listeners["decoy"].peers == 0 and listeners["abstract"].peers == 0
    assert results["socket and folder"]["visible_gateway_folders"] == []


def test_the_socket_folder_is_read_only_and_the_socket_is_the_step_users_alone(attack):
    facts = network_results(attack)["socket and folder"]
    assert facts["socket"] == {"is_socket": True, "mode": "0o600", "uid": facts["uid"]} and facts["uid"] != 0, facts
    assert "ro" in facts["folder_mount"].split(","), facts["folder_mount"]
    refusals = ("EROFS", "EACCES", "EPERM")
    assert all(result in refusals for result in facts["attacks"].values()), facts["attacks"]
    assert facts["still_a_socket"] is True


def test_a_unix_socket_left_in_the_users_repository_is_out_of_reach(attack):
    """connect() ignores a read-only mount, and gVisor's --host-uds=open reaches any host socket mounted into it:
    the socket is masked (runc: an empty file over it; gVisor: its folder hidden)."""
    results = network_results(attack)
    assert results[f"unix /src/{REPOSITORY_SOCKET}"] in ("EACCES", "ECONNREFUSED", "ENOENT"), results
    assert attack["listeners"]["repository"].peers == 0


# ----- leaving processes behind ---------------------------------------------------------------------
def test_processes_left_behind_die_with_the_step(attack):
    markers, watch = attack["markers"], attack["watch"]
    in_container = artifact(attack, "procs.txt")
    assert markers["setsid"] in in_container and markers["daemon"] in in_container  # they escaped the tool call
    assert markers["nohup"] not in in_container  # the tool call's process group was killed
    if attack["runtime"] == "runsc":  # they live in the sandbox, invisible to the host: the sandbox must go
        sandboxes = attack["sandboxes"]
        assert sandboxes.most_processes["escape"] >= 1, "control: the host must have seen the escape step's sandbox"
        assert sandboxes.processes_left()[sandboxes.container_ids["escape"]] == 0
        return
    assert watch.most_seen[markers["setsid"]] >= 1, "control: the host must have seen the escaped process"
    assert count_processes(list(markers.values())) == dict.fromkeys(markers.values(), 0)


# ----- planting git hooks and config for the host -------------------------------------------------------
def test_git_hooks_and_config_cannot_be_planted_for_the_host(attack):
    report = artifact(attack, "hooks.txt")
    assert "edit_rc=0" in report  # control: the step did have a writable clone
    assert "hook_rc=1" in report and "config_rc=" in report and "config_rc=0" not in report, report
    assert "Read-only file system" in report
    assert not attack["hook_marker"].exists()
    assert not (attack["repo"] / ".git" / "hooks" / "post-commit").exists()
    assert "hooksPath" not in (attack["repo"] / ".git" / "config").read_text()


def test_the_hook_attack_still_produced_a_host_commit_that_ran_no_hook(attack):
    ended = attack["run"].events[-1]
    assert ended["branch"] and len(ended["commits"]) == 1, ended
    changed = git(attack["repo"], "show", "--name-only", "--format=", ended["commits"][0]).split()
    assert "app.py" in changed
    assert not attack["hook_marker"].exists()


def test_an_injected_artifact_cannot_be_written(attack):
    report = artifact(attack, "hooks.txt")
    assert "inject_rc=1" in report
    recorded = attack["record"] / "steps" / "escape" / "artifacts" / "writes.json"
    assert recorded.read_text() == artifact(attack, "writes.json")


# ----- returning hostile artifacts -------------------------------------------------------------------
def test_hostile_artifacts_are_refused_each_by_name(attack):
    message = attack["run"].step_event("artifacts")["message"]
    expected = {
        "passwd_link": "symbolic link", "hard": "hard link", "fifo": "not a regular file",
        "big": f"is {OVERSIZE_BYTES} bytes, over the limit", "under_link": "symbolic link",
        "missing": "was not written",
    }  # fmt: skip
    for name, reason in expected.items():
        part = next((p for p in message.split("; ") if f"'{name}'" in p), None)
        assert part is not None and reason in part, (name, message)
    record = json.loads((attack["record"] / "run.json").read_text())
    assert record["steps"]["artifacts"]["summary"] == message


def test_the_good_artifacts_of_a_hostile_step_are_still_collected(attack):
    assert artifact(attack, "good.txt") == "good\n"
    assert artifact(attack, "z-good.txt") == "also good\n"
    recorded = attack["record"] / "steps" / "artifacts" / "artifacts"
    assert sorted(p.name for p in recorded.iterdir()) == ["good.txt", "z-good.txt"]


def test_nothing_hostile_reaches_the_output_folder(attack):
    hostile = {"passwd-link.txt", "hard.txt", "fifo.txt", "big.bin", "passwd", "missing.txt", "etc-dir"}
    delivered = {path.name for path in attack["out"].iterdir()}
    assert not delivered & hostile, delivered
    assert not [p for p in attack["out"].rglob("*") if p.is_symlink() or not p.is_file()]
    assert attack["run"].step_event("artifacts")["duration_ms"] < 60_000  # the FIFO hung nothing
