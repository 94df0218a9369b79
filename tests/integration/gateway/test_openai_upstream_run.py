"""A whole run through the OpenAI translation: real containers, real git, the real agent speaking
Messages to the gateway, and the gateway speaking Chat Completions to a scripted OpenAI-compatible
server on the host (the wire format the openai SDK parses, tests/unit/gateway/test_scripted_chat_server).

The server listens on every host address, so a step could try it directly: its probe shows the
server's port on the host is closed to the container, while the gateway on the host reaches it.
"""

from __future__ import annotations

import ipaddress
import json

import pytest

from tests.integration.conftest import run_cli
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
# From inside the step: the gateway's host (the run network's gateway address), then the server's port on it.
PROBE = (
    "ls /src; base=$(tr '\\0' '\\n' < /proc/$PPID/environ | sed -n 's/^ANTHROPIC_BASE_URL=//p'); "
    "host=${{base#http://}}; host=${{host%:*}}; python3 -c 'import socket,sys\n"
    "try:\n    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3); print(\"reached\", sys.argv[1])\n"
    "except OSError as error: print(\"blocked\", sys.argv[1], type(error).__name__)' \"$host\" {port}; "
    "echo openai-variables=$(tr '\\0' '\\n' < /proc/$PPID/environ | grep -c '^OPENAI')"
)


@pytest.fixture
def chat_server():
    server = ScriptedChatServer(host="0.0.0.0", usage=Usage(prompt_tokens=900, completion_tokens=40, cached_tokens=600))
    yield server
    server.stop()


def test_a_pipeline_runs_through_the_chat_completions_translation(chat_server, repo, tmp_path, docker, agent_image):
    chat_server.turns.extend([
        [text("Looking at the service."), call("bash", {"command": PROBE.format(port=chat_server.port)})],
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
    probe_line = next(line for line in result["content"].splitlines() if line.startswith(("blocked", "reached")))
    assert probe_line.startswith("blocked "), result["content"]  # the server's port is closed to the step
    assert ipaddress.ip_address(probe_line.split()[1]).is_private  # the gateway's host, read from the agent's environ
    assert "openai-variables=0" in result["content"]  # ... which holds no OpenAI key or URL
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
    assert not docker.containers.list(all=True, filters=label) and not docker.networks.list(filters=label)
