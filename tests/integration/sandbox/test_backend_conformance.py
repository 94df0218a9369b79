"""One conformance suite for the run-level calls of every sandbox backend: Docker (marked docker) and
the fake. capabilities, prepare_run, open_gateway (TCP only), teardown_run (with and without keep) and
clean_dead_runs after a crash of a real process. A step of a prepared run reaches a real gateway the way
the engine lets it (``gateway_reach``): Docker's through the Unix socket in a folder mounted read-only
(the step has no network), the fake's on loopback TCP once ``open_gateway`` opened its port. What only
Docker has, the socket folder, must be gone after teardown and after a crash's sweep, and stay while its
run is alive or kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wave_sandbox.engine.gateway_reach import gateway_reach
from wave_sandbox.errors import SandboxError
from wave_sandbox.gateway import Gateway
from wave_sandbox.gateway.script_file import load_script
from wave_sandbox.gateway.scripted import ScriptedUpstream
from wave_sandbox.sandbox.backend import BackendCapabilities, RunEnvironment, SandboxBackend, this_process_owner
from wave_sandbox.sandbox.registry import get_backend

from .helpers import TEST_USER, make_spec, new_run_id

# What the agent does, with the standard library alone: through the socket when told one, else over TCP.
ASK_THE_GATEWAY = """import http.client, json, os, socket, urllib.parse

class UnixConnection(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(10)
        self.sock.connect(os.environ["WAVE_SANDBOX_GATEWAY_SOCKET"])

base = urllib.parse.urlsplit(os.environ["ANTHROPIC_BASE_URL"])
if os.environ.get("WAVE_SANDBOX_GATEWAY_SOCKET"):
    connection = UnixConnection(base.hostname)
else:
    connection = http.client.HTTPConnection(base.hostname, base.port, timeout=10)
body = json.dumps({"model": "scripted", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]})
connection.request("POST", "/v1/messages", body, {
    "x-api-key": os.environ["ANTHROPIC_API_KEY"], "content-type": "application/json", "anthropic-version": "2023-06-01"})
answer = connection.getresponse()
print(answer.status, json.loads(answer.read())["content"][0]["text"])
"""

CRASHING_RUN = """\
import os, sys
from pathlib import Path
from wave_sandbox.sandbox.backend import ContainerSpec, this_process_owner
from wave_sandbox.sandbox.registry import get_backend
kind, base, image, run_id, user = sys.argv[1:]
backend = get_backend(kind, **({"base_dir": Path(base)} if kind == "fake" else {}))
env = backend.prepare_run(run_id, this_process_owner())
backend.create(ContainerSpec(run_id, "step", image, env.network, user, {}, workspace_mb=16, memory_mb=256,
                             pids=128, lifetime_s=120))
print("made", env.gateway_socket or "-", flush=True)
os._exit(0)  # a crash: no teardown
"""


def socket_folder(env: RunEnvironment) -> Path | None:
    """The run's gateway socket folder (``<tmp>/wave-sandbox-gateway-<run id>-<random>``), None on TCP."""
    return Path(env.gateway_socket).parents[1] if env.gateway_socket else None


@pytest.fixture(params=[pytest.param("docker", marks=pytest.mark.docker), "fake"])
def kind(request) -> str:
    return request.param


@pytest.fixture
def image(kind, request) -> str:
    return request.getfixturevalue("agent_image") if kind == "docker" else "no-image-for-the-fake"


@pytest.fixture
def backend(kind, request, tmp_path) -> SandboxBackend:
    if kind == "fake":
        return get_backend("fake", base_dir=tmp_path)
    return get_backend("docker", client=request.getfixturevalue("docker"))


def test_the_backend_satisfies_the_interface_and_says_what_it_can_give(backend, kind, image):
    assert isinstance(backend, SandboxBackend)
    capabilities = backend.capabilities()
    assert isinstance(capabilities, BackendCapabilities) and capabilities.engine
    if kind == "docker":  # a local engine: the gateway's socket can be mounted into its steps
        assert "runc" in capabilities.runtimes and capabilities.images_present and capabilities.network_isolation
        assert not any(line.startswith("gateway socket:") for line in capabilities.reduced_controls)
    else:
        assert capabilities.reduced_controls and not capabilities.network_isolation


def test_a_prepared_runs_step_reaches_its_gateway(backend, kind, image, tmp_path):
    env = backend.prepare_run(new_run_id(), this_process_owner())
    assert (env.gateway_socket is None) != (env.gateway_host is None), env  # one place to listen, not two
    if kind == "docker":
        assert env.network is None and socket_folder(env).is_dir()
    (tmp_path / "script.yaml").write_text("steps:\n  step:\n    - - {type: text, text: reached the gateway}\n")
    uid, gid = (int(part) for part in TEST_USER.split(":"))
    gateway = Gateway(
        ScriptedUpstream(load_script(tmp_path / "script.yaml")), bind_host=env.gateway_host,
        unix_socket=env.gateway_socket, socket_owner=(uid, gid) if env.gateway_socket else None,
    )  # fmt: skip
    try:
        gateway.start()
        if env.gateway_socket is None:
            backend.open_gateway(env, gateway.port)
        reach = gateway_reach(gateway, gateway.register_step("step", tmp_path / "step.jsonl"))
        handle = backend.create(
            make_spec(image, run_id=env.run_id, network=env.network, mounts=reach.mounts, environment=reach.environment)
        )
        answer = backend.exec(handle, ["python3", "-c", ASK_THE_GATEWAY], 30)
        assert answer.stdout.decode().strip() == "200 reached the gateway", answer.stderr.decode()[-2000:]
        assert gateway.usage("step").requests == 1
    finally:
        gateway.stop()
        assert backend.teardown_run(env) == []
    if env.gateway_socket:
        assert not Path(env.gateway_socket).exists() and not socket_folder(env).exists()


def test_teardown_removes_the_runs_steps_and_keep_leaves_them_running(backend, image):
    env = backend.prepare_run(new_run_id(), this_process_owner())
    kept = backend.create(make_spec(image, run_id=env.run_id, network=env.network))
    assert backend.teardown_run(env, keep=True) == []
    assert backend.exec(kept, ["true"], 30).exit_code == 0, "--keep leaves the step's sandbox"
    folder = socket_folder(env)
    assert folder is None or folder.is_dir(), "--keep leaves the gateway socket folder the kept steps mount"
    assert backend.teardown_run(env) == []
    assert folder is None or not folder.exists(), "teardown removes the gateway socket folder"
    with pytest.raises(SandboxError):
        backend.exec(kept, ["true"], 30)
    assert backend.teardown_run(env) == [], "a second teardown finds nothing and says nothing"


def test_clean_dead_runs_removes_a_crashed_runs_objects_and_spares_a_live_run(backend, kind, image, tmp_path):
    live = backend.prepare_run(new_run_id(), this_process_owner())
    live_step = backend.create(make_spec(image, run_id=live.run_id, network=live.network))
    crashed_run_id = new_run_id()
    made = subprocess.run(
        [sys.executable, "-c", CRASHING_RUN, kind, str(tmp_path), image, crashed_run_id, TEST_USER],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    said, crashed_socket = made.stdout.split()
    assert said == "made", made.stderr
    try:
        report = backend.clean_dead_runs()
        assert report.containers, report
        assert crashed_run_id not in report.spared_runs and live.run_id in report.spared_runs
        assert not report.failures, report.failures
        if kind == "docker":  # the crashed run's socket folder went, the live run's stayed
            assert crashed_run_id in report.gateway_sockets and live.run_id not in report.gateway_sockets, report
            assert not Path(crashed_socket).parents[1].exists() and socket_folder(live).is_dir()
            assert f"{len(report.gateway_sockets)} gateway sockets" in report.summary()
        assert backend.exec(live_step, ["true"], 30).exit_code == 0, "the live run's step still runs"
        assert crashed_run_id not in backend.clean_dead_runs().spared_runs
    finally:
        assert backend.teardown_run(live) == []
