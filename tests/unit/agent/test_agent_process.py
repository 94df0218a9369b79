"""`python -m wave_sandbox.agent step.json` end to end, against a local server playing the Messages API.

Importing anthropic costs seconds per process, so one agent process plays the full step (tool calls,
refusals, a cut-off turn, the final answer); the other endings (max_turns, API error, timeout, no
gateway) run `main()` in this process, and a bad step file fails before anthropic is imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.unit.agent.fake_messages_api import (
    FakeMessagesApi,
    RecordedRequest,
    ScriptedReply,
    error_reply,
    message_reply,
    text_block,
    tool_use_block,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
STEP_TOKEN = "step-token-triage"
NAVIGATOR_TOOLS = ["bash", "read_file", "write_file", "list_files", "grep"]


def step_description(workdir: Path, **overrides) -> dict:
    return {
        "step_id": "triage", "persona": "navigator", "model": "claude-test", "system": "You are the navigator.",
        "prompt": "500 errors spiking on /api/orders", "tools": NAVIGATOR_TOOLS, "max_tokens": 1024,
        "max_turns": 10, "timeout_s": 60, "workdir": str(workdir), "tool_output_limit": 2000, "bash_timeout_s": 10,
        **overrides,
    }


def tools_scenario() -> list[ScriptedReply]:
    """A turn of tool calls (one fine, one the persona lacks, one unknown, one with bad input, one failing
    command), a turn cut off at max_tokens in a tool call, then the final answer."""
    return [
        message_reply(
            text_block("Looking around"),
            tool_use_block("tu_write", "write_file", {"path": "output/triage.json", "content": '{"ok": true}'}),
            tool_use_block("tu_edit", "edit_file", {"path": "notes.txt", "old_text": "alpha", "new_text": "gamma"}),
            tool_use_block("tu_unknown", "launch_rockets", {}),
            tool_use_block("tu_bad", "read_file", {"offset": 2}),
            tool_use_block("tu_bash", "bash", {"command": "cat notes.txt; exit 3"}),
        ),
        message_reply(
            text_block("Writing the report"),
            tool_use_block("tu_cut", "write_file", {"path": "output/cut.md", "content": "partial"}),
            stop_reason="max_tokens",
        ),
        message_reply(text_block("\nTriage complete\nSeverity high."), usage=(300, 40)),
    ]


def endless_tool_calls() -> list[ScriptedReply]:
    return [
        message_reply(text_block(f"step {n}"), tool_use_block(f"tu_{n}", "bash", {"command": f"echo {n}"}))
        for n in range(1, 6)
    ]


def bad_step_data(workdir: Path) -> dict:
    return {"step_id": "triage", "model": "claude-test"}


@dataclass
class AgentRun:
    exit_code: int
    stdout: str
    stderr: str
    duration_s: float
    requests: list[RecordedRequest]
    workdir: Path

    @property
    def result(self) -> dict:
        return json.loads(self.stdout.splitlines()[-1])


def start_agent_process(folder: Path, step_data: dict, replies: list[ScriptedReply]):
    workdir = prepare_workdir(folder)
    step_path = write_step_file(folder, step_data(workdir))
    api = FakeMessagesApi(list(replies)).start()
    environment = {"PATH": os.environ["PATH"], "HOME": str(folder), "ANTHROPIC_BASE_URL": api.base_url,
                   "ANTHROPIC_API_KEY": STEP_TOKEN}
    process = subprocess.Popen([sys.executable, "-m", "wave_sandbox.agent", str(step_path)], cwd=REPO_ROOT,
                               env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process, api, workdir, time.monotonic()


def prepare_workdir(folder: Path) -> Path:
    workdir = folder / "workspace"
    workdir.mkdir()
    (workdir / "notes.txt").write_text("alpha\nbeta\n")
    return workdir


def write_step_file(folder: Path, data: dict) -> Path:
    step_path = folder / "step.json"
    step_path.write_text(json.dumps(data))
    return step_path


def finish_agent_process(process, api, workdir, began) -> AgentRun:
    try:
        stdout, stderr = process.communicate(timeout=60)
        return AgentRun(process.returncode, stdout, stderr, time.monotonic() - began, list(api.requests), workdir)
    finally:
        process.kill()
        api.stop()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, AgentRun]:
    full_step = start_agent_process(tmp_path_factory.mktemp("tools"), step_description, tools_scenario())
    bad_step_file = finish_agent_process(*start_agent_process(tmp_path_factory.mktemp("bad"), bad_step_data, []))
    # The in-process tests below need the loop (and anthropic): importing it now overlaps the agent's own import.
    import wave_sandbox.agent.loop  # noqa: F401

    return {"tools": finish_agent_process(*full_step), "bad_step_file": bad_step_file}


@pytest.fixture
def run_in_process(runs, tmp_path, monkeypatch, capsys):
    """Run `main([step.json])` in this process against a fake Messages API. (It asks for `runs` only so that
    the agent process is already under way when anthropic gets imported here.)"""
    from wave_sandbox.agent.entrypoint import main

    def run(replies: list[ScriptedReply], base_url: str | None = None, **overrides):
        api = FakeMessagesApi(list(replies)).start()
        monkeypatch.setenv("ANTHROPIC_BASE_URL", base_url or api.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", STEP_TOKEN)
        step_path = write_step_file(tmp_path, step_description(prepare_workdir(tmp_path), **overrides))
        began = time.monotonic()
        try:
            exit_code = main([str(step_path)])
        finally:
            api.stop()
        stdout, stderr = capsys.readouterr()
        assert stdout.count("\n") == 1
        duration_s = time.monotonic() - began
        return AgentRun(exit_code, stdout, stderr, duration_s, list(api.requests), tmp_path / "workspace")

    return run


def tool_results_sent(request: RecordedRequest) -> list[dict]:
    last_message = request.body["messages"][-1]
    assert last_message["role"] == "user"
    return last_message["content"]


# a full step: tool calls, then the final answer

def test_a_finished_step_prints_its_result_as_the_last_stdout_line(runs):
    run = runs["tools"]
    assert run.exit_code == 0, run.stderr
    assert run.stdout.count("\n") == 1
    assert run.result == {"final_text": "\nTriage complete\nSeverity high.", "summary": "Triage complete",
                          "turns": 3, "stop_reason": "end_turn", "error": None}


def test_the_first_request_carries_the_step_and_only_its_tools(runs):
    first = runs["tools"].requests[0]
    assert first.path == "/v1/messages"
    assert first.headers["x-api-key"] == STEP_TOKEN
    assert first.headers.get("authorization", f"Bearer {STEP_TOKEN}") == f"Bearer {STEP_TOKEN}"
    assert first.body["model"] == "claude-test"
    assert first.body["max_tokens"] == 1024
    ephemeral = {"type": "ephemeral"}
    assert first.body["system"] == [{"type": "text", "text": "You are the navigator.", "cache_control": ephemeral}]
    assert first.body["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "500 errors spiking on /api/orders", "cache_control": ephemeral}]}]
    assert [tool["name"] for tool in first.body["tools"]] == NAVIGATOR_TOOLS
    assert first.body["tools"][0]["input_schema"]["required"] == ["command"]
    assert [tool.get("cache_control") for tool in first.body["tools"]] == [None] * 4 + [ephemeral]
    assert first.body["stream"] is True  # streamed, as the SDK requires for long requests


def test_tool_results_answer_every_tool_use_in_order(runs):
    second = runs["tools"].requests[1]
    assistant = second.body["messages"][1]
    assert assistant["role"] == "assistant"
    assert assistant["content"][0] == {"type": "text", "text": "Looking around"}
    sent = tool_results_sent(second)
    assert [block["tool_use_id"] for block in sent] == ["tu_write", "tu_edit", "tu_unknown", "tu_bad", "tu_bash"]
    assert [block["is_error"] for block in sent] == [False, True, True, True, False]
    assert all(block["type"] == "tool_result" for block in sent)
    workdir = runs["tools"].workdir
    assert sent[0]["content"] == f"wrote 12 bytes to {workdir / 'output/triage.json'}"
    assert sent[1]["content"].startswith("tool 'edit_file' is not available in this step")
    assert sent[2]["content"].startswith("unknown tool 'launch_rockets'")
    assert sent[3]["content"] == "invalid input for read_file: missing required field(s) path"
    assert sent[4]["content"] == "exit code: 3\nalpha\nbeta\n"


def test_tools_acted_on_the_workdir_and_the_refused_ones_did_not(runs):
    workdir = runs["tools"].workdir
    assert (workdir / "output/triage.json").read_text() == '{"ok": true}'
    assert (workdir / "notes.txt").read_text() == "alpha\nbeta\n"
    assert not (workdir / "output/cut.md").exists()


def test_a_tool_call_cut_off_at_max_tokens_is_refused_and_the_loop_goes_on(runs):
    third = runs["tools"].requests[2]
    assert tool_results_sent(third) == [{
        "type": "tool_result", "tool_use_id": "tu_cut", "is_error": True, "cache_control": {"type": "ephemeral"},
        "content": "not run: your reply reached max_tokens while writing this tool call, so its input may be cut "
                   "off. Call it again with less in one call (for example, write a long file in several parts).",
    }]
    assert len(runs["tools"].requests) == 3


def test_progress_goes_to_stderr(runs):
    stderr = runs["tools"].stderr
    assert "step triage (navigator): model claude-test" in stderr
    assert "turn 1/10: tool_use in " in stderr and "tokens 100 in (0 cached, 0 written) / 20 out: \"Looking around\"" in stderr
    assert 'write_file {"path":"output/triage.json"' in stderr
    assert "edit_file" in stderr and "-> error: tool 'edit_file' is not available" in stderr
    assert "finished: end_turn after 3 turn(s)" in stderr


# the other ways a step ends

def test_max_turns_stops_the_loop_after_running_the_last_turns_tools(run_in_process):
    run = run_in_process(endless_tool_calls(), max_turns=2)
    assert run.exit_code == 0, run.stderr
    assert run.result == {"final_text": "step 2", "summary": "step 2", "turns": 2, "stop_reason": "max_turns",
                          "error": None}
    assert len(run.requests) == 2
    assert 'bash {"command":"echo 2"} -> ok' in run.stderr


def test_a_rejected_request_exits_3_with_the_apis_message(run_in_process):
    run = run_in_process([error_reply(400, "invalid_request_error", "messages.1.content.0: unexpected `tool_use_id`")])
    assert run.exit_code == 3, run.stderr
    assert run.result == {
        "final_text": "", "summary": "", "turns": 0, "stop_reason": "error",
        "error": "model request failed: 400 invalid_request_error: messages.1.content.0: unexpected `tool_use_id`"}
    assert len(run.requests) == 1  # a 400 is not retried


def test_an_unreachable_gateway_is_named_in_the_error(runs, monkeypatch):
    # Tried for real, the SDK's retries make this cost seconds; the wording is what matters here.
    import anthropic

    from wave_sandbox.agent.model_client import describe_model_error

    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://10.9.0.1:8080")
    refused = anthropic.APIConnectionError(request=None)
    refused.__cause__ = ConnectionRefusedError(111, "Connection refused")
    assert describe_model_error(refused, 600) == (
        "model request failed: cannot reach http://10.9.0.1:8080: [Errno 111] Connection refused")


def test_the_step_timeout_interrupts_a_model_request_and_exits_4(run_in_process):
    slow = message_reply(text_block("too late"))
    slow.delay_s = 30
    run = run_in_process([slow], timeout_s=0.5)
    assert run.exit_code == 4, run.stderr
    assert run.result == {"final_text": "", "summary": "", "turns": 0, "stop_reason": "timeout",
                          "error": "the step's time limit of 0.5 s ran out"}
    assert len(run.requests) == 1 and run.duration_s < 3


def test_a_step_timing_out_in_a_tool_call_keeps_the_text_so_far(run_in_process):
    replies = [
        message_reply(text_block("Checking the deploy log"), tool_use_block("tu_1", "bash", {"command": "sleep 30"}))
    ]
    run = run_in_process(replies, timeout_s=0.8)
    assert run.exit_code == 4, run.stderr
    assert (run.result["stop_reason"], run.result["final_text"], run.result["turns"]) == (
        "timeout", "Checking the deploy log", 1)
    assert run.duration_s < 4


def test_a_bad_step_file_exits_2_with_one_line_on_stderr(runs):
    run = runs["bad_step_file"]
    assert run.exit_code == 2
    assert run.stderr.strip().count("\n") == 0
    assert run.stderr.startswith("wave-sandbox agent: step file ")
    assert "missing required key 'persona'" in run.stderr
    assert run.result["stop_reason"] == "error" and "missing required key 'persona'" in run.result["error"]
    assert run.requests == []
    assert run.duration_s < 2  # refused before anthropic is even imported


def test_a_prompt_too_long_answer_shrinks_the_conversation_and_retries_instead_of_failing(run_in_process):
    reads = [message_reply(tool_use_block(f"tu_{n}", "bash", {"command": f"head -c 6000 /dev/zero | tr '\\\\0' {n}"}))
             for n in range(4)]  # fmt: skip
    too_long = error_reply(400, "invalid_request_error", "prompt is too long: 9000 tokens > 8000 maximum")
    run = run_in_process([*reads, too_long, message_reply(text_block("Read it all"))])
    assert run.exit_code == 0, run.stderr
    assert run.result["stop_reason"] == "end_turn" and run.result["final_text"] == "Read it all"
    refused, retried = run.requests[4], run.requests[5]
    assert len(retried.body["messages"]) <= len(refused.body["messages"])
    assert "[result of bash head -c 6000 /dev/zero" in json.dumps(retried.body), run.stderr
    assert "cleared to save context; call again if needed]" in json.dumps(retried.body)
    assert len(json.dumps(retried.body)) < len(json.dumps(refused.body))
    assert "the model refused the prompt as too long (prompt is too long: 9000 tokens > 8000 maximum)" in run.stderr
    assert "context: cleared" in run.stderr
