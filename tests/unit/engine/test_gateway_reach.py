"""How an agent step reaches its gateway (``engine/gateway_reach.py``): on a socket, its folder read-only at
/run/wave-sandbox and the socket's path in the variable the agent reads; on TCP, the address alone."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from wave_sandbox.agent import model_client
from wave_sandbox.bind_mount import BindMount, MountRole
from wave_sandbox.engine import gateway_reach as reach_module
from wave_sandbox.engine.gateway_reach import GATEWAY_SOCKET_FOLDER, GATEWAY_SOCKET_VARIABLE, gateway_reach
from wave_sandbox.gateway import Gateway
from wave_sandbox.gateway.script_file import Script
from wave_sandbox.gateway.scripted import ScriptedUpstream


@pytest.fixture
def socket_folder():
    folder = Path(tempfile.mkdtemp(prefix="wsreach-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def upstream() -> ScriptedUpstream:
    return ScriptedUpstream(Script(Path("script.yaml"), {}))


def test_the_agent_reads_the_variable_the_engine_sets():
    assert GATEWAY_SOCKET_VARIABLE == model_client.GATEWAY_SOCKET_VARIABLE == "WAVE_SANDBOX_GATEWAY_SOCKET"


def test_on_a_socket_a_step_gets_its_folder_read_only_and_the_path_inside(socket_folder):
    with Gateway(upstream(), unix_socket=socket_folder / "gateway.sock") as gateway:
        reach = gateway_reach(gateway, "step-token")
    assert reach.mounts == [BindMount(socket_folder, "/run/wave-sandbox", True, MountRole.GATEWAY)]
    assert GATEWAY_SOCKET_FOLDER == "/run/wave-sandbox"
    assert reach.environment == {
        "ANTHROPIC_BASE_URL": "http://wave-sandbox-gateway",
        "ANTHROPIC_API_KEY": "step-token",
        "WAVE_SANDBOX_GATEWAY_SOCKET": "/run/wave-sandbox/gateway.sock",
    }


def test_on_tcp_a_step_gets_the_address_and_no_mount():
    with Gateway(upstream(), "127.0.0.1") as gateway:
        reach = gateway_reach(gateway, "step-token")
        assert reach.mounts == []
        assert reach.environment == {"ANTHROPIC_BASE_URL": gateway.base_url, "ANTHROPIC_API_KEY": "step-token"}


def test_only_agent_steps_are_given_a_gateway():
    """The step runner builds an agent's container spec with it; command steps, checkers and the preflight
    never import it (they have no gateway at all)."""
    engine = Path(reach_module.__file__).parent
    users = sorted(p.name for p in engine.rglob("*.py") if "gateway_reach" in p.read_text() and p.name != "gateway_reach.py")
    assert users == ["step_execution.py"]
