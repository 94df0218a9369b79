"""Collection from a real container: leftovers stopped first, links never followed, masks seen.

The race itself, through a whole run, is in tests/security/test_collection_race.py.
"""

from __future__ import annotations

import os
import time

import pytest

from wave_sandbox.sandbox.contract import BindMount
from wave_sandbox.sandbox.docker_sandbox import DockerSandbox

from .helpers import make_spec

pytestmark = pytest.mark.docker

# Processes that escape the tool call in every way a shell allows: a new session, a double fork,
# a chain that forks and exits forever (never the same pid twice), and a loop that keeps forking
# (both slowed down a little: faster, they fill the pids limit with zombies; the chain outlives a failed fork).
LEAVE_PROCESSES = """
setsid sleep 1000 >/dev/null 2>&1 </dev/null &
nohup sleep 1001 >/dev/null 2>&1 </dev/null &
setsid python3 -c 'import os, time
if os.fork(): os._exit(0)
os.setsid(); time.sleep(1000)' >/dev/null 2>&1 </dev/null &
setsid python3 -c 'import os, time
while True:
    time.sleep(0.002)
    try:
        if os.fork(): os._exit(0)
    except OSError: pass' >/dev/null 2>&1 </dev/null &
setsid sh -c 'while :; do sleep 0.05 & sleep 0.01; done' >/dev/null 2>&1 </dev/null &
sleep 0.5
"""
LEFTOVER_COMMANDS = ["sleep 1000", "sleep 1001", "time.sleep(1000)", "while True", "while :"]


@pytest.fixture
def sandbox(docker, registry) -> DockerSandbox:
    return DockerSandbox(docker, registry)


@pytest.fixture
def started(sandbox):
    handles = []

    def start(spec):
        handles.append(sandbox.create(spec))
        return handles[-1]

    yield start
    for handle in handles:
        sandbox.destroy(handle)


def processes(sandbox, handle) -> list[list[str]]:
    """pid, ppid, state and command of every process but the ps itself."""
    listing = sandbox.exec(handle, ["ps", "-eo", "pid=,ppid=,stat=,args="], 30).stdout.decode()
    rows = [line.split(None, 3) for line in listing.splitlines()]
    return [row for row in rows if not row[3].startswith("ps ")]


def assert_all_running(sandbox, handle) -> None:
    """Every leftover shows in a listing; a few listings, since a forking chain can be caught between two links."""
    for _ in range(20):
        running = " ".join(row[3] for row in processes(sandbox, handle))
        if all(command in running for command in LEFTOVER_COMMANDS):
            return
        time.sleep(0.1)
    raise AssertionError(f"not every leftover runs: {running}")


def test_collect_stops_every_leftover_but_init_and_the_lifetime_process(sandbox, started, agent_image):
    handle = started(make_spec(agent_image))
    assert sandbox.exec(handle, ["/bin/sh", "-c", LEAVE_PROCESSES], 30).exit_code == 0
    assert_all_running(sandbox, handle)  # control: they were running
    sandbox.collect(handle, [], max_bytes=100)
    left = processes(sandbox, handle)
    lifetime = 'bash -c read -r -t "$0" _ 120'
    assert [(row[0], row[3]) for row in left] == [("1", f"/usr/bin/tini -- {lifetime}"), (left[1][0], lifetime)]
    assert left[1][1] == "1" and left[1][2].startswith("S"), left  # the lifetime process runs on, not stopped


@pytest.fixture
def guarded(tmp_path):
    """A folder mounted under /workspace: a masked folder, a masked file, a file the user may not read."""
    folder = tmp_path / "guarded"
    (folder / "runs" / "r1").mkdir(parents=True)
    (folder / "runs" / "r1" / "run.json").write_text("RUN-RECORD-SECRET")
    (folder / ".env").write_text("DOT-ENV-SECRET")
    (folder / "private.txt").write_text("ROOT-ONLY-SECRET")
    os.chmod(folder / "private.txt", 0o600)
    (folder / "public.txt").write_text("public")
    for path in (folder, folder / "runs", folder / "runs" / "r1"):
        path.chmod(0o755)
    for path in (folder / ".env", folder / "runs" / "r1" / "run.json", folder / "public.txt"):
        path.chmod(0o644)
    return folder


def test_collect_reads_as_the_step_sees_masks_and_permissions_included(sandbox, started, agent_image, guarded):
    if os.geteuid() != 0:
        pytest.skip("needs a host file the container's user cannot read (run as root)")
    spec = make_spec(
        agent_image, mounts=[BindMount(guarded, "/workspace/guarded", True)],
        masked_paths=["/workspace/guarded/runs", "/workspace/guarded/.env"],
    )  # fmt: skip
    handle = started(spec)
    paths = ["guarded/runs/r1/run.json", "guarded/.env", "guarded/private.txt", "guarded/public.txt"]
    run_json, env, private, public = sandbox.collect(handle, paths, max_bytes=100)
    assert public.content == b"public"  # control: the mount is there and readable
    assert run_json.missing and env.content == b""  # the tmpfs and file masks, as inside the container
    assert private.content is None and private.refusal == "could not be read (Permission denied)"


def test_a_link_anywhere_on_the_way_is_refused(sandbox, started, agent_image):
    handle = started(make_spec(agent_image, workspace_dirs=["output/deep"]))
    script = "ln -s /etc output/deep/etc && ln -s /workspace/output loop && echo ok > output/deep/ok.txt"
    assert sandbox.exec(handle, ["/bin/sh", "-c", script], 30).exit_code == 0
    via_deep, via_loop, good = sandbox.collect(handle, ["output/deep/etc/passwd", "loop/deep/ok.txt",
                                                        "output/deep/ok.txt"], max_bytes=100)  # fmt: skip
    assert "under a symbolic link" in via_deep.refusal and "under a symbolic link" in via_loop.refusal
    assert good.content == b"ok\n"
