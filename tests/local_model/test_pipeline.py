"""A one-step pipeline in real containers, through the gateway, against a real small model
(SmolLM2-135M behind llama.cpp's server on the host): once with the server as an
Anthropic-compatible upstream (its /v1/messages), once through the gateway's Chat Completions
translation (its /v1/chat/completions, marked local so tool calls are constrained and recovered).

Asserts only what a 135M model can do: a real answer comes back through the gateway, and through
the translation its first turn is a write_file call whose side effect (the file, written by the
real tool in the container) shows in the next request's tool result.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.integration.conftest import git, run_cli
from tests.transcripts import response_message

PIPELINE = """\
kind: WavePipeline
metadata:
  name: local-smoke
steps:
  - id: write
    persona: navigator
    exec:
      source: "Create a file named output/hello.txt containing the text hi. Use the write_file tool."
    output_artifacts:
      - name: hello
        path: output/hello.txt
"""
# A short prompt, one tool and few tokens: what a 135M model with a 4096-token context can follow.
PERSONA_PROMPT = "You are a coding agent. Use the tools.\n"
PERSONA_SETTINGS = "tools: [write_file]\nmax_tokens: 160\nmax_turns: 3\n"
MODES = {
    "anthropic-compatible": ["--model", "anthropic:smollm2"],
    "openai-translation": ["--model", "openai:smollm2", "--upstream-local"],
}


def small_repository(folder: Path) -> Path:
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    (folder / ".wave" / "personas").mkdir(parents=True)
    (folder / ".wave" / "personas" / "navigator.md").write_text(PERSONA_PROMPT)
    (folder / ".wave" / "personas" / "navigator.yaml").write_text(PERSONA_SETTINGS)
    (folder / "README.md").write_text("# smoke\n")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "init")
    return folder


def transcript_of(repo: Path) -> list[dict]:
    run_folder = next(path for path in (repo / ".wave" / "runs").iterdir() if path.is_dir())
    lines = (run_folder / "steps" / "write" / "transcript.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def first_tool_call(response: dict) -> dict | None:
    return next((block for block in response.get("content", ()) if block.get("type") == "tool_use"), None)


def tool_result_of(transcript: list[dict], call_id: str) -> str:
    for entry in transcript[1:]:
        for message in entry["request"]["messages"]:
            for block in message["content"] if isinstance(message["content"], list) else ():
                if block.get("type") == "tool_result" and block["tool_use_id"] == call_id:
                    return json.dumps(block["content"])
    return ""


@pytest.mark.parametrize("mode", list(MODES))
def test_one_step_pipeline_through_the_gateway(local_server, tmp_path, mode):
    repo = small_repository(tmp_path / "repo")
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    started = time.monotonic()
    completed = run_cli(
        "run", str(tmp_path / "pipeline.yaml"), "--repo", str(repo), *MODES[mode], "--upstream-url", local_server.url,
        "--output", str(tmp_path / "out"), "--step-timeout", "300", cwd=tmp_path, timeout=600,
    )
    print(f"\nlocal-model: pipeline via {mode}: exit {completed.returncode} in {time.monotonic() - started:.1f} s")
    print(completed.stdout + completed.stderr[-1500:])
    assert completed.returncode in (0, 1) and "Traceback" not in completed.stderr, completed.stderr
    transcript = transcript_of(repo)
    first = dict(transcript[0], response=response_message(transcript[0]["response"]))  # the agent streams
    assert first["status"] == 200 and first["response"]["type"] == "message", first
    assert first["response"]["usage"]["output_tokens"] > 0  # a real model answered through the gateway
    call = first_tool_call(first["response"])
    print(f"local-model: {mode} first answer: {json.dumps(first['response']['content'])[:300]}")
    if mode == "anthropic-compatible" and call is None:
        return  # /v1/messages cannot constrain a 135M model: a call is not something it can promise
    assert call is not None and call["name"] == "write_file", first["response"]
    assert first["response"]["stop_reason"] == "tool_use"
    result = tool_result_of(transcript, call["id"])
    path = call["input"].get("path", "")
    assert "wrote" in result and "bytes to /workspace/" in result, result  # the real tool ran in the container
    if path.strip("/").removeprefix("workspace/") == "output/hello.txt":
        assert (tmp_path / "out" / "hello.txt").read_text() == call["input"]["content"]
