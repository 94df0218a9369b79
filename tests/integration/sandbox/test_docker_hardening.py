"""The container defaults of a step, each proved from inside a real container and on the host.

Every test that starts a container does so under runc and under gVisor (``runtime``, the runsc half
marked ``runsc``). Where gVisor gives a control its own way the test says so: it checks permissions
before a read-only mount (EACCES where Linux says EROFS, so the refusal is shown on files anyone
could otherwise write, and the root's mount options are read), its /proc/self/status has no
NoNewPrivs line (the prctl answers), and the memory limit's OOM kill ends the whole sandbox.
"""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from wave_sandbox.errors import SandboxError
from wave_sandbox.sandbox.docker_sandbox import DockerSandbox
from wave_sandbox.sandbox.runtimes import gvisor_host_pids
from wave_sandbox.sandbox.seccomp_profile import step_profile

from .helpers import TEST_USER, make_spec, read_only_mount

pytestmark = pytest.mark.docker


@pytest.fixture
def sandbox(docker, registry) -> DockerSandbox:
    return DockerSandbox(docker, registry)


@pytest.fixture
def started(sandbox, runtime):
    """Create sandboxes from specs, under ``runtime``; each is destroyed after the test."""
    handles = []

    def start(spec):
        handles.append(sandbox.create(dataclasses.replace(spec, runtime=runtime)))
        return handles[-1]

    yield start
    for handle in handles:
        sandbox.destroy(handle)


@pytest.fixture
def repo(tmp_path):
    """A folder the container's user may read (pytest's own tmp_path is private to root)."""
    folder = tmp_path / "repo"
    folder.mkdir(mode=0o755)
    return folder


def sh(sandbox, handle, script: str, timeout_s: float = 60):
    return sandbox.exec(handle, ["/bin/bash", "-c", script], timeout_s)


PYTHON_WRITE = """
import errno, sys
try:
    open(sys.argv[1], "w").write("x")
except OSError as e:
    print(errno.errorcode[e.errno])
else:
    print("written")
"""


def try_write(sandbox, handle, path: str) -> str:
    return sandbox.exec(handle, ["python3", "-c", PYTHON_WRITE, path], 30).stdout.decode().strip()


def test_writing_to_a_read_only_src_fails_with_erofs_and_leaves_the_host_unchanged(
    sandbox, started, agent_image, repo
):
    (repo / "app.py").write_text("original\n")
    repo.chmod(0o777)  # writable for everyone: only the mount can refuse
    (repo / "app.py").chmod(0o666)
    handle = started(make_spec(agent_image, mounts=[read_only_mount(repo)]))
    assert try_write(sandbox, handle, "/src/app.py") == "EROFS"
    assert try_write(sandbox, handle, "/src/new.py") == "EROFS"
    assert (repo / "app.py").read_text() == "original\n" and not (repo / "new.py").exists()


def test_there_is_no_src_without_mounts(sandbox, started, agent_image):
    handle = started(make_spec(agent_image))
    assert sh(sandbox, handle, "test -e /src").exit_code == 1


def test_masked_folders_and_files_look_empty_and_cannot_be_written(sandbox, started, agent_image, repo):
    (repo / ".wave" / "runs" / "r1").mkdir(parents=True)
    (repo / ".wave" / "runs" / "r1" / "run.json").write_text("{}")
    (repo / ".env").write_text("API_KEY=secret\n")
    (repo / "app.py").write_text("visible\n")
    masked = ["/src/.wave/runs", "/src/.env", "/src/not-there.pem"]
    handle = started(make_spec(agent_image, mounts=[read_only_mount(repo)], masked_paths=masked))
    listing = sh(sandbox, handle, "find /src/.wave/runs -mindepth 1; cat /src/.env; cat /src/app.py")
    assert listing.exit_code == 0 and listing.stdout == b"visible\n", listing.stderr
    assert try_write(sandbox, handle, "/src/.wave/runs/planted") in ("EROFS", "EACCES")
    assert try_write(sandbox, handle, "/src/.env") in ("EROFS", "EACCES")
    assert (repo / ".env").read_text() == "API_KEY=secret\n"
    assert sorted(p.name for p in (repo / ".wave" / "runs").iterdir()) == ["r1"]


def test_masks_also_hide_paths_inside_a_read_write_mount(sandbox, started, agent_image, repo):
    (repo / "secrets").mkdir()
    (repo / "secrets" / "id_rsa").write_text("PRIVATE\n")
    mount = read_only_mount(repo, "/src")
    rw_mount = type(mount)(source=repo, target="/src", read_only=False)
    handle = started(make_spec(agent_image, mounts=[rw_mount], masked_paths=["/src/secrets/id_rsa"]))
    assert sh(sandbox, handle, "cat /src/secrets/id_rsa").stdout == b""
    assert try_write(sandbox, handle, "/src/secrets/id_rsa") in ("EROFS", "EACCES")
    assert (repo / "secrets" / "id_rsa").read_text() == "PRIVATE\n"


def test_replaced_files_show_their_new_content_read_only_and_survive_collection(
    sandbox, started, agent_image, repo
):
    (repo / ".git").mkdir(exist_ok=True)
    (repo / ".git" / "config").write_text("[remote]\n\turl = https://u:TOKEN@example.com/r.git\n")
    replaced = {"/src/.git/config": b"[remote]\n\turl = https://***@example.com/r.git\n"}
    spec = make_spec(agent_image, mounts=[read_only_mount(repo)], replaced_files=replaced, workspace_dirs=["out"])
    handle = started(spec)
    assert sh(sandbox, handle, "cat /src/.git/config").stdout == replaced["/src/.git/config"]
    assert try_write(sandbox, handle, "/src/.git/config") in ("EROFS", "EACCES")
    assert sh(sandbox, handle, "echo kept > /workspace/out/a.txt").exit_code == 0
    assert sandbox.collect(handle, ["out/a.txt"], 1024)[0].content == b"kept\n"  # the copy outlives the start
    assert "TOKEN" in (repo / ".git" / "config").read_text()


def test_the_environment_holds_only_the_specs_variables(sandbox, started, agent_image, docker, monkeypatch):
    monkeypatch.setenv("WAVE_SANDBOX_HOST_MARKER", "host-marker-value-1234")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    environment = {"ANTHROPIC_BASE_URL": "http://gateway:1", "ANTHROPIC_API_KEY": "step-token"}
    handle = started(make_spec(agent_image, environment=environment))
    result = sandbox.exec(
        handle, ["python3", "-c", "import os, json; print(json.dumps(dict(os.environ)))"], 30
    )
    seen = json.loads(result.stdout)
    image_variables = {
        item.split("=", 1)[0] for item in docker.api.inspect_image(agent_image)["Config"]["Env"] or []
    }
    assert set(seen) <= set(environment) | image_variables | {"HOSTNAME", "HOME"}, seen
    assert {k: seen[k] for k in environment} == environment and seen["HOME"] == "/home/wave"
    assert (
        "host-marker-value-1234" not in result.stdout.decode()
        and "proxy.invalid" not in result.stdout.decode()
    )


def test_the_root_filesystem_is_read_only_but_tmp_and_home_are_writable(sandbox, started, agent_image, runtime):
    handle = started(make_spec(agent_image))
    refusal = "EROFS" if runtime == "runc" else "EACCES"  # gVisor: permissions first (the files are root's)
    assert [
        try_write(sandbox, handle, path) for path in ("/etc/planted", "/usr/bin/planted", "/planted")
    ] == [refusal] * 3
    root = [line.split() for line in sh(sandbox, handle, "cat /proc/mounts").stdout.decode().splitlines()]
    assert "ro" in next(fields[3] for fields in root if fields[1] == "/").split(","), root
    assert try_write(sandbox, handle, "/tmp/scratch") == "written"
    assert try_write(sandbox, handle, "/home/wave/.config") == "written"


def test_no_capabilities_and_no_new_privileges(sandbox, started, agent_image, runtime):
    handle = started(make_spec(agent_image))
    status = dict(
        line.split(":\t", 1)
        for line in sh(sandbox, handle, "cat /proc/self/status").stdout.decode().splitlines()
        if ":\t" in line
    )
    # gVisor has no CapAmb line; ambient capabilities cannot exceed the permitted set (empty) anyway.
    keys = ("CapEff", "CapPrm", "CapBnd") + (("CapAmb",) if runtime == "runc" else ())
    assert {key: status[key].strip() for key in keys} == dict.fromkeys(keys, "0000000000000000")
    no_new_privs = "import ctypes; print(ctypes.CDLL(None).prctl(39, 0, 0, 0, 0))"  # PR_GET_NO_NEW_PRIVS
    assert sandbox.exec(handle, ["python3", "-c", no_new_privs], 30).stdout.strip() == b"1"
    assert status.get("NoNewPrivs", "").strip() == ("1" if runtime == "runc" else "")  # gVisor lacks the line
    assert sh(sandbox, handle, "id -u").stdout.decode().strip() == TEST_USER.split(":")[0]
    assert sh(sandbox, handle, "find / -xdev -perm /6000 -type f 2>/dev/null").stdout == b""


def test_the_pids_limit_stops_a_fork_loop(sandbox, started, agent_image):
    handle = started(make_spec(agent_image, pids=40))
    script = """
import os, time
n = 0
try:
    while n < 200:
        if os.fork() == 0:
            time.sleep(20)
            os._exit(0)
        n += 1
except OSError as e:
    print("stopped", n, e.errno)
else:
    print("unlimited", n)
"""
    output = sandbox.exec(handle, ["python3", "-c", script], 60).stdout.decode().split()
    assert output[0] == "stopped" and int(output[1]) < 40, output


def test_the_memory_limit_kills_an_allocation_past_it(sandbox, started, agent_image, runtime):
    handle = started(make_spec(agent_image, memory_mb=64))
    allocate = ["python3", "-c", "b = bytearray(256 * 1024 * 1024); print('allocated')"]
    if runtime == "runsc":  # the OOM kill ends the whole sandbox, and the exec says so
        with pytest.raises(SandboxError, match="killed at its memory limit"):
            sandbox.exec(handle, allocate, 60)
        # what comes next (the artifact collection) is told the same, not "could not collect (exit 126)"
        with pytest.raises(SandboxError, match="killed at its memory limit"):
            sandbox.exec(handle, ["true"], 60)
        return
    result = sandbox.exec(handle, allocate, 60)
    assert result.exit_code != 0 and b"allocated" not in result.stdout and not result.timed_out


def test_filling_the_workspace_fails_with_enospc_at_its_cap(sandbox, started, agent_image):
    handle = started(make_spec(agent_image, workspace_mb=8))
    result = sh(
        sandbox,
        handle,
        "head -c 20000000 /dev/zero > /workspace/big; echo status $?; wc -c < /workspace/big",
    )
    assert b"No space left on device" in result.stderr
    assert int(result.stdout.split()[-1]) <= 8 * 1024 * 1024


def test_the_workspace_belongs_to_the_user_and_is_private(sandbox, started, agent_image):
    handle = started(make_spec(agent_image))
    owner = "import os; s = os.stat('/workspace'); print(f'{s.st_uid}:{s.st_gid} {s.st_mode & 0o777:o}')"
    assert sandbox.exec(handle, ["python3", "-c", owner], 30).stdout.decode().strip() == f"{TEST_USER} 700"


def test_the_container_stops_by_itself_after_its_lifetime(sandbox, started, agent_image, docker):
    handle = started(make_spec(agent_image, lifetime_s=2))
    cut_short = sh(sandbox, handle, "sleep 30", timeout_s=60)
    assert cut_short.timed_out and cut_short.duration_s < 10
    deadline = time.monotonic() + 15
    while docker.api.inspect_container(handle.container_id)["State"]["Running"]:
        assert time.monotonic() < deadline, "the container outlived its lifetime"
        time.sleep(0.2)
    with pytest.raises(SandboxError, match="not running"):
        sh(sandbox, handle, "true")


def test_docker_inspect_shows_the_hardened_settings(sandbox, started, agent_image, docker, runtime):
    handle = started(make_spec(agent_image, cpus=1.5, memory_mb=300, pids=99, lifetime_s=77))
    inspected = docker.api.inspect_container(handle.container_id)
    host = inspected["HostConfig"]
    assert (
        host["ReadonlyRootfs"] and host["CapDrop"] == ["ALL"] and host["SecurityOpt"][0] == "no-new-privileges"
    )
    assert len(host["SecurityOpt"]) == 2 and json.loads(host["SecurityOpt"][1].removeprefix("seccomp=")) == step_profile()
    assert host["Memory"] == host["MemorySwap"] == 300 * 1024 * 1024
    pids_limit = 99 if runtime == "runc" else gvisor_host_pids(99)  # gVisor: the guest's own limit is nproc
    assert (host["NanoCpus"], host["PidsLimit"], host["NetworkMode"], host["Privileged"]) == (
        1_500_000_000,
        pids_limit,
        "none",
        False,
    )
    assert host["Runtime"] == runtime
    if runtime == "runsc":
        assert host["Ulimits"] == [{"Name": "nproc", "Soft": 99, "Hard": 99}]
    assert set(host["Tmpfs"]) == {"/tmp", "/home/wave"}
    assert inspected["Config"]["User"] == "65534:65534" != TEST_USER  # PID 1's; each exec runs as TEST_USER
    assert inspected["Config"]["Cmd"] == ["bash", "-c", 'read -r -t "$0" _', "77"]
    assert inspected["Config"]["OpenStdin"] and inspected["Config"]["StdinOnce"]
    assert inspected["Config"]["Labels"]["wave-sandbox.step"] == "step"
    assert inspected["Config"]["Entrypoint"] == ["/usr/bin/tini", "--"]


def test_a_failed_create_leaves_nothing_behind(sandbox, docker, registry):
    with pytest.raises(SandboxError, match="missing"):
        sandbox.create(make_spec("wave-sandbox-no-such-image:none"))
    assert registry.is_empty


def test_a_workspace_dir_leaving_the_workspace_is_refused_before_anything_is_made(
    sandbox, agent_image, registry
):
    with pytest.raises(ValueError):
        sandbox.create(make_spec(agent_image, workspace_dirs=["../outside"]))
    assert registry.is_empty
