"""The gateway on a real run network, used by the anthropic SDK inside the agent image.

Proves what unit tests on 127.0.0.1 cannot: the gateway binds the run network's gateway address,
a step container reaches it there, and the SDK version baked into the image parses its answers
(plain and streamed) and is refused with a revoked token.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlsplit

import pytest

from wave_sandbox.gateway import Gateway
from wave_sandbox.gateway.script_file import load_script
from wave_sandbox.gateway.scripted import ScriptedUpstream
from wave_sandbox.sandbox.cleanup import ResourceRegistry
from wave_sandbox.sandbox.docker_sandbox import DockerSandbox
from wave_sandbox.sandbox.networks import allow_gateway_port, create_run_network, remove_run_network
from tests.integration.sandbox.helpers import make_spec

pytestmark = pytest.mark.docker

SCRIPT = """\
steps:
  triage:
    - - {type: text, text: "Looking at recent deploys"}
      - {type: tool_use, name: bash, input: {command: "git -C /src log --oneline -5"}}
    - - {type: text, text: "Triage complete"}
"""

AGENT_SIDE = """
import json, sys
import anthropic

tools = [{"name": "bash", "description": "run", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}]
client = anthropic.Anthropic(max_retries=0)
messages = [{"role": "user", "content": "500 errors on /api/orders"}]
first = client.messages.create(model="claude-test", max_tokens=256, messages=messages, tools=tools)
call = next(block for block in first.content if block.type == "tool_use")
messages += [
    {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "abc123 add orders query"}]},
]
with client.messages.stream(model="claude-test", max_tokens=256, messages=messages, tools=tools) as stream:
    final = stream.get_final_message()
try:
    anthropic.Anthropic(api_key=sys.argv[1], max_retries=0).messages.create(
        model="claude-test", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    refused = False
except anthropic.AuthenticationError:
    refused = True
print(json.dumps({"tool_input": call.input, "final_text": final.content[0].text,
                  "stop_reason": final.stop_reason, "revoked_token_refused": refused}))
"""


def test_a_step_container_talks_to_the_gateway_on_its_run_network(docker, agent_image, tmp_path):
    registry = ResourceRegistry(docker)
    run_id = f"pytest-gateway-{uuid.uuid4().hex[:8]}"
    network = create_run_network(docker, run_id, registry)
    (tmp_path / "script.yaml").write_text(SCRIPT)
    gateway = Gateway(ScriptedUpstream(load_script(tmp_path / "script.yaml")), network.gateway_ip)
    sandbox, handle = DockerSandbox(docker, registry), None
    try:
        gateway.start()
        allow_gateway_port(network, urlsplit(gateway.base_url).port)
        token = gateway.register_step("triage", tmp_path / "triage.jsonl")
        revoked = gateway.register_step("earlier", tmp_path / "earlier.jsonl")
        gateway.revoke_step("earlier")
        environment = {"ANTHROPIC_BASE_URL": gateway.base_url, "ANTHROPIC_API_KEY": token}
        handle = sandbox.create(make_spec(agent_image, run_id=run_id, network=network.name, environment=environment))

        result = sandbox.exec(handle, ["python3", "-c", AGENT_SIDE, revoked], 90)
    finally:
        if handle is not None:
            sandbox.destroy(handle)
        gateway.stop()
        remove_run_network(docker, network, registry)
        assert registry.remove_all() == []

    assert result.exit_code == 0, result.stderr.decode()[-2000:]
    report = json.loads(result.stdout.decode().strip().splitlines()[-1])
    assert report == {
        "tool_input": {"command": "git -C /src log --oneline -5"},
        "final_text": "Triage complete",
        "stop_reason": "end_turn",
        "revoked_token_refused": True,
    }
    assert gateway.usage("triage").requests == 2 and gateway.usage("earlier").requests == 0
    transcript = (tmp_path / "triage.jsonl").read_text()
    assert len(transcript.splitlines()) == 2 and token not in transcript
    assert not docker.containers.list(all=True, filters={"label": f"wave-sandbox.run={run_id}"})
