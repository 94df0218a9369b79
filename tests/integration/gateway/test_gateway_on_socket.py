"""The gateway on its run's Unix socket, used by the agent's own model client inside the agent image.

Proves what unit tests on 127.0.0.1 cannot: the Docker backend makes the run's socket folder, the gateway
listens there (mode 0600, the steps' user's), a step with no network reaches it through the folder mounted
read-only as ``gateway_reach`` mounts it, and the SDK version baked into the image, given its HTTP client by
``agent/model_client.py``, parses its answers (plain and streamed) and is refused with a revoked token. The
control: the same SDK without the socket cannot reach anything (the base URL's host is never looked up,
and there is no network to look it up on).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from wave_sandbox.engine.gateway_reach import gateway_reach
from wave_sandbox.gateway import Gateway
from wave_sandbox.gateway.script_file import load_script
from wave_sandbox.gateway.scripted import ScriptedUpstream
from wave_sandbox.sandbox.backend import this_process_owner
from wave_sandbox.sandbox.registry import get_backend
from wave_sandbox.sandbox.runtimes import engine_runtimes
from tests.integration.conftest import run_objects
from tests.integration.sandbox.helpers import TEST_USER, make_spec, new_run_id

pytestmark = pytest.mark.docker

SCRIPT = """\
steps:
  triage:
    - - {type: text, text: "Looking at recent deploys"}
      - {type: tool_use, name: bash, input: {command: "git -C /src log --oneline -5"}}
    - - {type: text, text: "Triage complete"}
"""

AGENT_SIDE = """
import json, os, sys
import anthropic
from wave_sandbox.agent.model_client import create_model_client

tools = [{"name": "bash", "description": "run", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}]
client = create_model_client()
messages = [{"role": "user", "content": "500 errors on /api/orders"}]
first = client.messages.create(model="claude-test", max_tokens=256, messages=messages, tools=tools)
call = next(block for block in first.content if block.type == "tool_use")
messages += [
    {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "abc123 add orders query"}]},
]
with client.messages.stream(model="claude-test", max_tokens=256, messages=messages, tools=tools) as stream:
    final = stream.get_final_message()
os.environ["ANTHROPIC_API_KEY"] = sys.argv[1]
try:
    create_model_client().with_options(max_retries=0).messages.create(
        model="claude-test", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    refused = False
except anthropic.AuthenticationError:
    refused = True
try:  # the control: the SDK's own HTTP client, the same base URL, no socket
    anthropic.Anthropic(max_retries=0, timeout=5).messages.create(
        model="claude-test", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    without_socket = "answered"
except anthropic.APIConnectionError:
    without_socket = "no connection"
print(json.dumps({"tool_input": call.input, "final_text": final.content[0].text, "stop_reason": final.stop_reason,
                  "revoked_token_refused": refused, "without_socket": without_socket}))
"""


@pytest.fixture(params=["runc", pytest.param("runsc", marks=pytest.mark.runsc)])
def runtime(request, docker) -> str:
    """runc, and gVisor, which reaches a host socket only when registered with --host-uds=open (or all)."""
    if request.param not in engine_runtimes(docker):
        pytest.skip(f"the Docker engine has no {request.param} runtime (.ci/run installs and registers runsc)")
    return request.param


def test_a_step_with_no_network_talks_to_the_gateway_through_its_socket(docker, agent_image, tmp_path, runtime):
    backend = get_backend("docker", client=docker)
    assert backend.check_runtime(runtime) == runtime
    env = backend.prepare_run(new_run_id(), this_process_owner())
    (tmp_path / "script.yaml").write_text(SCRIPT)
    steps_user = tuple(int(part) for part in TEST_USER.split(":"))
    gateway = Gateway(
        ScriptedUpstream(load_script(tmp_path / "script.yaml")), unix_socket=env.gateway_socket, socket_owner=steps_user
    )
    try:
        gateway.start()
        listening = os.stat(env.gateway_socket)
        assert stat.S_ISSOCK(listening.st_mode) and stat.S_IMODE(listening.st_mode) == 0o600
        assert (listening.st_uid, listening.st_gid) == steps_user
        token = gateway.register_step("triage", tmp_path / "triage.jsonl")
        revoked = gateway.register_step("earlier", tmp_path / "earlier.jsonl")
        gateway.revoke_step("earlier")
        reach = gateway_reach(gateway, token)
        handle = backend.create(make_spec(
            agent_image, run_id=env.run_id, network=env.network, environment=reach.environment, mounts=reach.mounts,
            runtime=runtime))
        result = backend.exec(handle, ["python3", "-c", AGENT_SIDE, revoked], 90)
    finally:
        gateway.stop()
        assert backend.teardown_run(env) == []

    assert result.exit_code == 0, result.stderr.decode()[-2000:]
    report = json.loads(result.stdout.decode().strip().splitlines()[-1])
    assert report == {
        "tool_input": {"command": "git -C /src log --oneline -5"},
        "final_text": "Triage complete",
        "stop_reason": "end_turn",
        "revoked_token_refused": True,
        "without_socket": "no connection",
    }
    assert gateway.usage("triage").requests == 2 and gateway.usage("earlier").requests == 0
    transcript = (tmp_path / "triage.jsonl").read_text()
    assert len(transcript.splitlines()) == 2 and token not in transcript
    assert not Path(env.gateway_socket).exists(), "the gateway removes its socket when it stops"
    assert not any(run_objects(docker, {env.run_id}).values()), "teardown left the run's objects or folder"
