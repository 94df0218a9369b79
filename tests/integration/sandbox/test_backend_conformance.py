"""One conformance suite for the run-level calls of every sandbox backend: Docker (marked docker) and
the fake. capabilities, prepare_run, open_gateway, teardown_run (with and without keep) and
clean_dead_runs after a crash of a real process; what only Docker gives (the steps reach nothing on
the host but the gateway's port) is checked for Docker alone."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

import pytest

from wave_sandbox.errors import SandboxError
from wave_sandbox.sandbox.backend import BackendCapabilities, SandboxBackend, this_process_owner
from wave_sandbox.sandbox.registry import get_backend

from .helpers import TEST_USER, make_spec, new_run_id

CONNECT = (
    "import socket,sys\n"
    "try:\n    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close(); print('open')\n"
    "except OSError as e:\n    print('closed', e)\n"
)

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
print("made", flush=True)
os._exit(0)  # a crash: no teardown
"""


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


class Listener:
    """A TCP port on ``host`` that accepts and closes connections, counting them."""

    def __init__(self, host: str):
        self.socket = socket.create_server((host, 0))
        self.port = self.socket.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        self.socket.close()


def connect_from_step(backend, handle, host: str, port: int) -> str:
    result = backend.exec(handle, ["python3", "-c", CONNECT, host, str(port)], 30)
    assert result.exit_code == 0, result.stderr
    return result.stdout.decode().strip()


def test_the_backend_satisfies_the_interface_and_says_what_it_can_give(backend, kind, image):
    assert isinstance(backend, SandboxBackend)
    capabilities = backend.capabilities()
    assert isinstance(capabilities, BackendCapabilities) and capabilities.engine
    if kind == "docker":
        assert "runc" in capabilities.runtimes and capabilities.images_present
    else:
        assert capabilities.reduced_controls and not capabilities.host_firewall


def test_a_prepared_run_reaches_its_opened_gateway_port(backend, image):
    env = backend.prepare_run(new_run_id(), this_process_owner())
    gateway, other = Listener(env.gateway_host), Listener(env.gateway_host)
    try:
        backend.open_gateway(env, gateway.port)
        handle = backend.create(make_spec(image, run_id=env.run_id, network=env.network))
        assert connect_from_step(backend, handle, env.gateway_host, gateway.port) == "open"
        assert gateway.accepted == 1
        if env.firewalled:
            assert connect_from_step(backend, handle, env.gateway_host, other.port).startswith("closed")
            assert other.accepted == 0, "another host port on the gateway's address was reached"
    finally:
        gateway.close()
        other.close()
        assert backend.teardown_run(env) == []


def test_teardown_removes_the_runs_steps_and_keep_leaves_them_running(backend, image):
    env = backend.prepare_run(new_run_id(), this_process_owner())
    kept = backend.create(make_spec(image, run_id=env.run_id, network=env.network))
    assert backend.teardown_run(env, keep=True) == []
    assert backend.exec(kept, ["true"], 30).exit_code == 0, "--keep leaves the step's sandbox"
    assert backend.teardown_run(env) == []
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
    assert made.stdout.strip() == "made", made.stderr
    try:
        report = backend.clean_dead_runs()
        assert report.containers, report
        assert crashed_run_id not in report.spared_runs and live.run_id in report.spared_runs
        assert not report.failures, report.failures
        if kind == "docker":
            assert report.networks and report.firewall_rules >= (2 if live.firewalled else 0), report
        assert backend.exec(live_step, ["true"], 30).exit_code == 0, "the live run's step still runs"
        assert crashed_run_id not in backend.clean_dead_runs().spared_runs
    finally:
        assert backend.teardown_run(live) == []
