"""Wave's preflight container (`requires.tools`) has no network and no gateway socket: proven from inside it.

The preflight runs only `command -v` on tool names, so no pipeline can put a probe in it. Here the engine's
own preflight (`engine/preflight.py::missing_tools`) runs on the real Docker backend of a prepared run whose
real gateway listens on its socket; the sandbox it is given passes every call through, and before the
preflight's check it runs one more exec in that same container: the probe. The control is an agent-like
container of the same run, made with the agent steps' own `gateway_reach`, where the same probe, at the same
path, is answered by the gateway.
"""

from __future__ import annotations

import json
import secrets
from types import SimpleNamespace

import pytest

from tests.integration.conftest import assert_run_left_nothing
from tests.security.gateway_kit import MODEL, RecordingScriptedUpstream
from wave_sandbox.engine.gateway_reach import GATEWAY_SOCKET_FOLDER, GATEWAY_SOCKET_VARIABLE, gateway_reach
from wave_sandbox.engine.infrastructure import UNPRIVILEGED_CONTAINER_USER
from wave_sandbox.engine.preflight import PREFLIGHT_STEP, missing_tools
from wave_sandbox.gateway import Gateway
from wave_sandbox.gateway.budgets import Budget
from wave_sandbox.sandbox.contract import ContainerSpec
from wave_sandbox.sandbox.docker_backend import DockerBackend
from wave_sandbox.sandbox.owner import current_owner

pytestmark = pytest.mark.docker

SOCKET_PATH = f"{GATEWAY_SOCKET_FOLDER}/gateway.sock"
# argv[1]: the token ("" for none). Prints one JSON object.
PROBE = f"""\
import json, os, socket, sys
facts = {{"variable": os.environ.get("{GATEWAY_SOCKET_VARIABLE}"), "token": os.environ.get("ANTHROPIC_API_KEY"),
         "folder": os.path.exists("{GATEWAY_SOCKET_FOLDER}"),
         "interfaces": sorted(name for _, name in socket.if_nameindex())}}
connection = socket.socket(socket.AF_UNIX)
connection.settimeout(10)
try:
    connection.connect("{SOCKET_PATH}")
    connection.sendall(b"POST /v1/messages HTTP/1.1\\r\\nHost: gateway\\r\\ncontent-type: application/json\\r\\n"
                       b"x-api-key: " + sys.argv[1].encode() + b"\\r\\nContent-Length: 2\\r\\n\\r\\n[]")
    facts["gateway"] = connection.recv(200).split(b"\\r\\n")[0].decode()
except OSError as error:
    facts["gateway"] = type(error).__name__
print(json.dumps(facts))
"""


class ProbingSandbox:
    """The real backend, passed through; before the first command run in a container, ``PROBE`` runs in it."""

    def __init__(self, backend: DockerBackend) -> None:
        self.backend = backend
        self.probed: dict[str, dict] = {}

    def create(self, spec: ContainerSpec):
        return self.backend.create(spec)

    def exec(self, handle, argv, timeout_s=None):
        step = handle.spec.step_id
        if step not in self.probed:
            result = self.backend.exec(handle, ["python3", "-c", PROBE, ""], timeout_s=60)
            self.probed[step] = json.loads(result.stdout) | {"spec_network": handle.spec.network,
                                                              "spec_mounts": [m.target for m in handle.spec.mounts]}
        return self.backend.exec(handle, argv, timeout_s=timeout_s)

    def destroy(self, handle):
        return self.backend.destroy(handle)


@pytest.fixture(scope="module")
def probed(docker, agent_image, runtime, tmp_path_factory):
    folder = tmp_path_factory.mktemp("preflight")
    backend, run_id = DockerBackend(), f"preflight-{secrets.token_hex(4)}"
    environment = backend.prepare_run(run_id, current_owner())
    gateway = Gateway(RecordingScriptedUpstream(folder), unix_socket=environment.gateway_socket,
                      socket_owner=UNPRIVILEGED_CONTAINER_USER)  # fmt: skip
    user = "{}:{}".format(*UNPRIVILEGED_CONTAINER_USER)
    try:
        gateway.start()
        token = gateway.register_step("agent", folder / "transcript.jsonl", Budget(max_requests=5), model=MODEL,
                                      max_tokens=64)  # fmt: skip
        reach = gateway_reach(gateway, token)
        agent_spec = ContainerSpec(run_id=run_id, step_id="agent", image=agent_image, network=None, user=user,
                                   environment=reach.environment, mounts=reach.mounts, runtime=runtime)  # fmt: skip
        handle = backend.create(agent_spec)
        try:
            agent = backend.exec(handle, ["python3", "-c", PROBE, token], timeout_s=60)
        finally:
            backend.destroy(handle)
        sandbox = ProbingSandbox(backend)
        context = SimpleNamespace(run_id=run_id, image=agent_image, user=user, runtime=runtime, sandbox=sandbox)
        missing = missing_tools(context, ["git", "no-such-tool-here"])
    finally:
        gateway.stop()
        backend.teardown_run(environment)
    return {"agent": json.loads(agent.stdout), "preflight": sandbox.probed[PREFLIGHT_STEP], "missing": missing,
            "run_id": run_id}  # fmt: skip


def test_the_probe_reaches_the_gateway_from_a_container_made_as_agent_steps_are(probed):
    agent = probed["agent"]
    assert agent["variable"] == SOCKET_PATH and agent["folder"] is True, agent
    assert agent["gateway"].startswith("HTTP/1.1 4") and " 401 " not in agent["gateway"], agent  # its token taken


def test_the_preflight_container_has_no_network_no_gateway_socket_and_no_token(probed):
    preflight = probed["preflight"]
    assert probed["missing"] == ["no-such-tool-here"]  # the real preflight ran its check after the probe
    assert preflight["gateway"] == "FileNotFoundError", preflight
    assert preflight["folder"] is False and preflight["variable"] is None and preflight["token"] is None, preflight
    assert preflight["interfaces"] == ["lo"] and preflight["spec_network"] is None and preflight["spec_mounts"] == []


def test_the_probed_run_leaves_nothing(probed, docker):
    assert_run_left_nothing(docker, probed["run_id"])
