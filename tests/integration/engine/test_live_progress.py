"""The live console on a terminal (a real pseudo-terminal): a running step's line shows the tool call
its model asked for while the step still runs; without a terminal, the plain lines stay as they were."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.conftest import CLI, run_cli
from tests.integration.scripted_runs import bash, one_commit_repository, say, write_pipeline

pytestmark = pytest.mark.docker

PIPELINE = """\
kind: WavePipeline
metadata:
  name: live
steps:
  - id: probe
    persona: navigator
    exec:
      source: "Look around"
"""
SCRIPT = {"steps": {"probe": [[bash("sleep 6; echo done-sleeping")], say("Looked around")]}}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


@pytest.fixture
def scenario(tmp_path) -> dict:
    repo = one_commit_repository(tmp_path / "repo")
    pipeline, script = write_pipeline(tmp_path, PIPELINE, SCRIPT)
    return {"repo": repo, "arguments": ["run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script}",
                                        "--output", str(tmp_path / "out")]}


def run_in_terminal(arguments: list[str], cwd: Path, timeout_s: float = 180) -> list[tuple[float, str]]:
    """Run the CLI on a pseudo-terminal; every chunk of what it wrote, with when it arrived."""
    controller, terminal = pty.openpty()
    environment = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    process = subprocess.Popen([str(CLI), *arguments], cwd=cwd, stdin=terminal, stdout=terminal, stderr=terminal,
                               env={**environment, "TERM": "xterm-256color", "COLUMNS": "160"}, close_fds=True)
    os.close(terminal)
    chunks, deadline = [], time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.5)
            if ready:
                try:
                    data = os.read(controller, 65536)
                except OSError:
                    break
                if not data:
                    break
                chunks.append((time.monotonic(), data.decode("utf-8", "replace")))
            elif process.poll() is not None:
                break
    finally:
        process.wait(timeout=30)
        os.close(controller)
    assert process.returncode == 0, "".join(chunk for _, chunk in chunks)[-3000:]
    return chunks


def test_the_live_line_shows_the_current_tool_call_before_the_step_ends(scenario):
    chunks = run_in_terminal(scenario["arguments"], scenario["repo"])
    seen_activity = next((moment for moment, chunk in chunks if "bash: sleep 6; echo done-sleeping" in chunk), None)
    settled = next((moment for moment, chunk in chunks if re.search(r"completed probe\s+\(navigator\)", chunk)), None)
    assert seen_activity is not None, "".join(chunk for _, chunk in chunks)[-3000:]
    assert settled is not None and settled - seen_activity > 3  # seen while the tool still ran
    text = ANSI.sub("", "".join(chunk for _, chunk in chunks))
    assert re.search(r"probe\s+\(navigator\)\s+0:0\d", text)  # the running line counts the elapsed time
    assert "Pipeline live completed in" in text


def test_without_a_terminal_the_lines_are_plain_and_unchanged(scenario):
    done = run_cli(*scenario["arguments"], cwd=scenario["repo"])
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "bash: sleep" not in done.stdout
    lines = done.stdout.splitlines()
    assert re.fullmatch(r"\[\d\d:\d\d:\d\d\] started   probe             \(navigator\)\s+Starting step", lines[0])
    assert re.fullmatch(r"\[\d\d:\d\d:\d\d\] completed probe             \(navigator\)\s+\d+s\s+\S+ Looked around",
                        lines[1])


def test_json_has_activity_and_heartbeat_events(scenario):
    done = subprocess.run([str(CLI), *scenario["arguments"], "--json"], cwd=scenario["repo"], capture_output=True,
                          text=True, timeout=180, env={**os.environ, "WAVE_SANDBOX_HEARTBEAT_S": "1"})
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    states = [event["state"] for event in events]
    activity = next(event for event in events if event["state"] == "activity")
    assert activity["step_id"] == "probe" and activity["activity"] == "bash: sleep 6; echo done-sleeping"
    assert activity["tokens_in"] > 0 and activity["duration_ms"] >= 0
    assert states.index("activity") < states.index("completed")
    assert "heartbeat" in states[states.index("activity"):states.index("completed")]
    assert all("activity" not in event for event in events if event["state"] not in ("activity", "heartbeat"))


def test_logs_follow_prints_exchanges_as_they_come_and_ends_with_the_run(scenario):
    runs = scenario["repo"] / ".wave" / "runs"
    run = subprocess.Popen([str(CLI), *scenario["arguments"]], cwd=scenario["repo"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (runs.is_dir() and any(runs.glob("*/run.json"))):
            time.sleep(0.2)
        follow = subprocess.Popen([str(CLI), "logs", "latest", "--follow", "--json"], cwd=scenario["repo"],
                                  stdout=subprocess.PIPE, text=True)
        first = json.loads(follow.stdout.readline())
        assert run.poll() is None, "the run ended before the first exchange was followed"
        assert first["kind"] == "exchange" and first["parts"] == ['bash({"command": "sleep 6; echo done-sleeping"})']
        rest = [json.loads(line) for line in follow.stdout]
        assert follow.wait(timeout=60) == 0 and run.wait(timeout=120) == 0
        assert {"kind": "exchange", "parts": ["Looked around"]}.items() <= next(
            entry for entry in rest if entry["kind"] == "exchange").items()
        assert any(entry["kind"] == "agent_log" for entry in rest)
    finally:
        run.kill()
