"""One conformance suite for every sandbox: the Docker one (marked docker) and the fake.

What the runner may rely on whichever sandbox it has: files in and out (text and binary), missing
files, exit codes, timeouts, workspace_dirs, collection refusing hostile files while returning the
others. What only Docker can give (a read-only /src) is checked for Docker here and in
test_docker_hardening.py. The Docker sandbox runs the suite twice: under the engine's default
runtime and under gVisor (``docker-runsc``, marked ``runsc``).
"""

from __future__ import annotations

import time

import pytest

from wave_sandbox.errors import SandboxError
from wave_sandbox.sandbox.cleanup import ResourceRegistry
from wave_sandbox.sandbox.contract import Sandbox
from wave_sandbox.sandbox.docker_sandbox import DockerSandbox
from wave_sandbox.sandbox.fake import FakeSandbox
from wave_sandbox.sandbox.runtimes import engine_runtimes

from .helpers import make_spec, read_only_mount

BINARY = bytes(range(256)) * 4 + b"\x00\xff\r\n"


@pytest.fixture(params=[
    pytest.param("docker", marks=pytest.mark.docker),
    pytest.param("docker-runsc", marks=[pytest.mark.docker, pytest.mark.runsc]),  # the Docker sandbox under gVisor
    "fake",
])  # fmt: skip
def sandbox_kind(request) -> str:
    if request.param == "docker-runsc" and "runsc" not in engine_runtimes(request.getfixturevalue("docker")):
        pytest.skip("the Docker engine has no runsc runtime (.ci/run installs and registers it)")
    return request.param


@pytest.fixture
def image(sandbox_kind, request) -> str:
    return request.getfixturevalue("agent_image") if sandbox_kind != "fake" else "no-image-for-the-fake"


@pytest.fixture
def sandbox(sandbox_kind, request, tmp_path) -> Sandbox:
    if sandbox_kind == "fake":
        yield FakeSandbox(base_dir=tmp_path)
        return
    registry = ResourceRegistry(request.getfixturevalue("docker"))
    yield DockerSandbox(request.getfixturevalue("docker"), registry)
    assert registry.remove_all() == []


@pytest.fixture
def handle(sandbox, sandbox_kind, image, tmp_path):
    source = tmp_path / "repo"
    source.mkdir()
    (source / "app.py").write_text("print('hello')\n")
    runtime = "runsc" if sandbox_kind == "docker-runsc" else None
    created = sandbox.create(
        make_spec(image, mounts=[read_only_mount(source)], workspace_dirs=["output", "notes/deep"], runtime=runtime)
    )
    yield created
    sandbox.destroy(created)


def sh(sandbox, handle, script: str, timeout_s: float = 30):
    return sandbox.exec(handle, ["/bin/sh", "-c", script], timeout_s)


def test_the_sandbox_satisfies_the_protocol(sandbox):
    assert isinstance(sandbox, Sandbox)


def test_workspace_dirs_exist_and_are_writable_when_create_returns(sandbox, handle):
    result = sh(sandbox, handle, "test -d output && test -d notes/deep && touch output/x notes/deep/y && pwd")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.decode().strip().endswith("workspace")


def test_exec_returns_exit_code_stdout_stderr_and_duration(sandbox, handle):
    result = sh(sandbox, handle, "echo out; echo err >&2; exit 7")
    assert (result.exit_code, result.stdout, result.stderr, result.timed_out) == (
        7,
        b"out\n",
        b"err\n",
        False,
    )
    assert 0 < result.duration_s < 10


def test_exec_of_a_missing_command_fails_without_raising(sandbox, handle):
    result = sandbox.exec(handle, ["/no/such/command"], 30)
    assert result.exit_code != 0


def test_exec_past_its_timeout_is_killed_and_the_sandbox_with_it(sandbox, handle):
    result = sh(sandbox, handle, "echo started; sleep 30", timeout_s=1.5)
    assert result.timed_out and result.exit_code == 137
    assert 1.5 <= result.duration_s < 12
    with pytest.raises(SandboxError):
        sh(sandbox, handle, "true")
    with pytest.raises(SandboxError):
        sandbox.copy_in(handle, "/workspace", {"late.txt": b"x"})
    with pytest.raises(SandboxError):
        sandbox.collect(handle, ["output/late.txt"], 100)


def test_copy_in_then_collect_text_and_binary(sandbox, handle):
    sandbox.copy_in(handle, "/workspace", {"in/text.txt": "héllo\n".encode(), "in/blob.bin": BINARY})
    sandbox.copy_in(handle, "output", {"top.txt": b"top"})
    check = sh(sandbox, handle, "cat in/text.txt && test -w in/blob.bin && test -w output/top.txt")
    assert check.exit_code == 0 and check.stdout == "héllo\n".encode(), check.stderr
    collected = sandbox.collect(handle, ["in/text.txt", "in/blob.bin", "output/top.txt"], max_bytes=10_000)
    assert [c.content for c in collected] == ["héllo\n".encode(), BINARY, b"top"]
    assert all(c.refusal is None for c in collected)


def test_collect_takes_what_a_command_wrote(sandbox, handle):
    assert sh(sandbox, handle, "printf '{\"ok\": true}' > output/triage.json").exit_code == 0
    [triage] = sandbox.collect(handle, ["output/triage.json"], max_bytes=1000)
    assert triage.content == b'{"ok": true}' and triage.refusal is None


def test_collect_reports_a_missing_file(sandbox, handle):
    [absent, under_absent_folder] = sandbox.collect(
        handle, ["output/absent.md", "nowhere/x.md"], max_bytes=1000
    )
    assert absent.missing and absent.content is None and absent.refusal
    assert under_absent_folder.missing


def test_collect_refuses_hostile_files_and_still_returns_the_others(sandbox, handle):
    script = (
        "echo good > output/good.md; ln -s /etc/passwd output/symlink.md; echo shared > output/first.md; "
        "ln output/first.md output/hardlink.md; mkfifo output/fifo.md; head -c 5000 /dev/zero > output/big.md; "
        "mkdir output/folder.md; ln -s /etc linked"
    )
    assert sh(sandbox, handle, script).exit_code == 0
    paths = ["output/symlink.md", "output/hardlink.md", "output/fifo.md", "output/big.md", "../etc/passwd",
             "linked/passwd", "output/folder.md", "/etc/passwd", "output/tab\tname.md", "output/good.md"]  # fmt: skip
    results = {c.path: c for c in sandbox.collect(handle, paths, max_bytes=1000)}
    assert list(results) == paths
    assert results["output/good.md"].content == b"good\n" and results["output/good.md"].refusal is None
    refusals = {path: results[path].refusal for path in paths[:-1]}
    assert all(
        reason and results[path].content is None and not results[path].missing
        for path, reason in refusals.items()
    ), refusals
    assert "symbolic link" in refusals["output/symlink.md"] and "hard link" in refusals["output/hardlink.md"]
    assert (
        "not a regular file" in refusals["output/fifo.md"] and "over the limit" in refusals["output/big.md"]
    )
    assert "'..'" in refusals["../etc/passwd"] and "symbolic link" in refusals["linked/passwd"]
    assert "directory" in refusals["output/folder.md"] and "absolute" in refusals["/etc/passwd"]
    assert "control characters" in refusals["output/tab\tname.md"]


def test_collect_takes_a_file_of_exactly_the_limit(sandbox, handle):
    assert sh(sandbox, handle, "head -c 1000 /dev/zero > output/exact.bin").exit_code == 0
    [exact] = sandbox.collect(handle, ["output/exact.bin"], max_bytes=1000)
    assert exact.content == b"\x00" * 1000


def test_collect_first_stops_what_a_command_left_running(sandbox, handle):
    loop = "(while :; do date +%s%N > output/beat.tmp && mv output/beat.tmp output/beat; sleep 0.01; done)"
    assert sh(sandbox, handle, f"{loop} >/dev/null 2>&1 </dev/null & sleep 0.5").exit_code == 0
    [first] = sandbox.collect(handle, ["output/beat"], max_bytes=100)
    time.sleep(0.5)
    [second] = sandbox.collect(handle, ["output/beat"], max_bytes=100)
    assert first.content and first.content == second.content  # the loop was running, then no more
    later = sh(sandbox, handle, "echo still usable")
    assert later.exit_code == 0 and later.stdout == b"still usable\n"  # a retry can still run in it


def test_copy_in_refuses_names_that_leave_the_workspace(sandbox, handle):
    with pytest.raises(ValueError):
        sandbox.copy_in(handle, "/workspace", {"../escape.txt": b"x"})
    with pytest.raises(ValueError):
        sandbox.copy_in(handle, "/etc", {"x.txt": b"x"})


def test_destroy_is_idempotent(sandbox, handle):
    sandbox.destroy(handle)
    sandbox.destroy(handle)
    with pytest.raises(SandboxError):
        sh(sandbox, handle, "true")


def test_the_mount_is_visible_and_read_only_in_docker(sandbox_kind, sandbox, handle, tmp_path):
    read = sh(sandbox, handle, "cat /src/app.py")
    assert read.exit_code == 0 and read.stdout == b"print('hello')\n"
    if sandbox_kind == "fake":
        pytest.skip("the fake cannot make a mount read-only (no kernel mount of its own)")
    # Writable for everyone: only the mount can refuse (gVisor checks permissions first, Linux the mount).
    (tmp_path / "repo" / "app.py").chmod(0o666)
    write = sh(sandbox, handle, "echo changed > /src/app.py")
    assert write.exit_code != 0 and b"Read-only file system" in write.stderr
    assert (tmp_path / "repo" / "app.py").read_text() == "print('hello')\n"


def test_freeze_holds_every_process_until_thaw(sandbox, image, tmp_path):
    """The clone watchdog's brake: while frozen, nothing in the sandbox writes a byte."""
    import os
    import threading
    import time

    from wave_sandbox.sandbox.contract import BindMount

    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    ticks = shared / "ticks"
    frozen_handle = sandbox.create(make_spec(image, mounts=[BindMount(shared, "/rw", read_only=False)]))
    try:
        writer = threading.Thread(
            target=sh, args=(sandbox, frozen_handle, "for i in $(seq 1 100); do echo $i >> /rw/ticks; sleep 0.02; done", 60)
        )
        writer.start()
        deadline = time.monotonic() + 30
        while (not ticks.exists() or len(ticks.read_text().split()) < 5) and time.monotonic() < deadline:
            time.sleep(0.02)
        sandbox.freeze(frozen_handle)
        at_freeze = len(ticks.read_text().split())
        time.sleep(0.5)
        assert len(ticks.read_text().split()) == at_freeze < 100
        sandbox.thaw(frozen_handle)
        writer.join(60)
        assert len(ticks.read_text().split()) == 100
        sandbox.thaw(frozen_handle)  # not frozen: silent
    finally:
        sandbox.destroy(frozen_handle)
