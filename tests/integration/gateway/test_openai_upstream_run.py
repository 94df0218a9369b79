"""A whole run through the OpenAI translation: real containers, real git, the real agent speaking
Messages to the gateway, and the gateway speaking Chat Completions to a scripted OpenAI-compatible
server on the host (the wire format the openai SDK parses, tests/unit/gateway/test_scripted_chat_server).

The server listens on every host address, so a step could try it directly: its probe shows the
server's port closed to the container on every address of the host (the default bridge's, loopback's,
the host's own), while the gateway on the host reaches it.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import run_cli
from tests.security.attack_kit import default_bridge_address, gateway_socket_folders, host_ipv4_addresses
from tests.scripted_chat_completions import ScriptedChatServer, Usage, call, text
from tests.transcripts import response_message

pytestmark = pytest.mark.docker

HOST_KEY = "sk-openai-HOST-KEY-never-in-a-container"
PIPELINE = """\
kind: WavePipeline
metadata:
  name: translated
steps:
  - id: survey
    persona: navigator
    workspace:
      mount:
        - source: ./
          target: /src
          mode: readonly
    exec:
      source: "Survey the service for {{ input }}"
    output_artifacts:
      - name: notes
        path: output/notes.md
"""
# From inside the step: the server's port on each address of the host, and loopback (the step's own).
PROBE = (
    "ls /src; python3 -c 'import socket,sys\n"
    "for host in sys.argv[2:]:\n"
    "    try:\n        socket.create_connection((host, int(sys.argv[1])), timeout=3); print(\"reached\", host)\n"
    "    except OSError as error: print(\"blocked\", host, type(error).__name__)' {port} {hosts}; "
    "echo openai-variables=$(tr '\\0' '\\n' < /proc/$PPID/environ | grep -c '^OPENAI')"
)


@pytest.fixture
def chat_server():
    server = ScriptedChatServer(host="0.0.0.0", usage=Usage(prompt_tokens=900, completion_tokens=40, cached_tokens=600))
    yield server
    server.stop()


def test_a_pipeline_runs_through_the_chat_completions_translation(chat_server, repo, tmp_path, docker, agent_image):
    hosts = sorted({default_bridge_address(docker), "127.0.0.1", *host_ipv4_addresses()})
    chat_server.turns.extend([
        [text("Looking at the service."), call("bash", {"command": PROBE.format(port=chat_server.port, hosts=" ".join(hosts))})],
        [call("write_file", {"path": "output/notes.md", "content": "# Notes\n\napp.py returns 500\n"})],
        [text("Survey complete: app.py returns 500")],
    ])
    upstream_url = f"http://127.0.0.1:{chat_server.port}"
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)

    completed = run_cli(
        "run", str(tmp_path / "pipeline.yaml"), "500s", "--repo", str(repo), "--model", "openai:gpt-scripted",
        "--upstream-url", upstream_url, "--output", str(tmp_path / "out"), cwd=tmp_path,
        env={"OPENAI_API_KEY": HOST_KEY},
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Survey complete: app.py returns 500" in completed.stdout
    assert "translates the Messages API" in completed.stderr
    assert (tmp_path / "out" / "notes.md").read_text() == "# Notes\n\napp.py returns 500\n"
    first, second, third = chat_server.received
    assert first["model"] == "gpt-scripted" and first["messages"][0]["role"] == "system"
    assert {tool["function"]["name"] for tool in first["tools"]} >= {"bash", "write_file", "read_file"}
    result = second["messages"][-1]
    assert result["role"] == "tool" and result["tool_call_id"] == second["messages"][-2]["tool_calls"][0]["id"]
    assert "app.py" in result["content"] and "README.md" in result["content"]
    probed = [line.split()[:2] for line in result["content"].splitlines() if line.startswith(("blocked", "reached"))]
    assert [host for _, host in probed] == hosts, result["content"]  # every address was tried ...
    assert all(outcome == "blocked" for outcome, _ in probed), result["content"]  # ... and the port is closed on each
    assert len(chat_server.received) == 3  # the server saw the gateway's three requests and nothing else
    assert "openai-variables=0" in result["content"]  # the agent's environment holds no OpenAI key or URL
    assert all(headers["authorization"] == f"Bearer {HOST_KEY}" for headers in chat_server.headers)
    run_folder = next(path for path in (repo / ".wave" / "runs").iterdir() if path.is_dir())
    run_file = json.loads((run_folder / "run.json").read_text())
    assert run_file["model"] == "openai:gpt-scripted"
    transcript = [json.loads(line) for line in (run_folder / "steps" / "survey" / "transcript.jsonl").read_text().splitlines()]
    answers = [response_message(entry["response"]) for entry in transcript]  # streamed: the agent streams
    assert [answer["stop_reason"] for answer in answers] == ["tool_use", "tool_use", "end_turn"]
    assert answers[0]["usage"]["cache_read_input_tokens"] == 600
    every_record = "".join(path.read_text(errors="replace") for path in run_folder.rglob("*") if path.is_file())
    assert HOST_KEY not in every_record
    label = {"label": f"wave-sandbox.run={run_folder.name}"}  # this run's only: other runs may be alive
    assert not docker.containers.list(all=True, filters=label) and not docker.volumes.list(filters=label)
    assert gateway_socket_folders(run_folder.name) == []
