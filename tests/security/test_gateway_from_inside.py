"""The gateway attacked from inside a step's container, through `wave-sandbox run` and the agent's bash tool.

One hostile step reads its gateway socket's path and its token from its agent's environment, as an attacker
would, then, through that socket:
asks the provider to reach out (MCP servers, a server tool, beta headers), asks for another model, pours 52 MiB
of bodies that are not JSON at the gateway, and holds 1,500 half-sent requests open while its own agent asks
the model for its next turn. Each test checks one of them on the host.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest

from tests.integration.conftest import assert_run_left_nothing
from tests.security.attack_kit import LiveRun, bash, make_repository, probe, say, write_pipeline

pytestmark = pytest.mark.docker

# The bash tool withholds ANTHROPIC_*; an attacker reads them from its parent, the agent.
DISCOVER = (
    "SOCK=$(tr '\\0' '\\n' < /proc/$PPID/environ | sed -n 's/^WAVE_SANDBOX_GATEWAY_SOCKET=//p'); "
    "KEY=$(tr '\\0' '\\n' < /proc/$PPID/environ | sed -n 's/^ANTHROPIC_API_KEY=//p'); "
)
WAIT_FOR_FLOOD = "for i in $(seq 80); do [ -s output/flood.json ] && break; sleep 0.5; done; cat output/flood.json"


def pipeline() -> dict:
    outputs = {"requests": "output/requests.json", "flood": "output/flood.json"}
    return {"kind": "WavePipeline", "metadata": {"name": "gateway-attacks"}, "steps": [
        {"id": "hostile", "persona": "navigator", "exec": {"source": "abuse the gateway"},
         "output_artifacts": [{"name": name, "path": path} for name, path in outputs.items()]},
    ]}  # fmt: skip


def script() -> dict:
    requests = probe("gateway_abuse", '"$SOCK" "$KEY" requests', "output/requests.json")
    flood = probe("gateway_abuse", '"$SOCK" "$KEY" flood', "output/flood.json", then="& sleep 4; echo flooding")
    return {"steps": {"hostile": [
        [bash(DISCOVER + requests)],
        [bash(DISCOVER + "setsid " + flood)],  # the agent asks for its next turn while the flood holds
        [bash(WAIT_FOR_FLOOD)],
        say("Gateway attacks done"),
    ]}}  # fmt: skip


class ThreadWatch:
    """The most threads the process ``pid`` had, sampled every 50 ms."""

    def __init__(self, pid: int):
        self.pid, self.most = pid, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                self.most = max(self.most, len(list(Path(f"/proc/{self.pid}/task").iterdir())))
            except OSError:
                return
            self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.fixture(scope="module")
def attack(tmp_path_factory, docker, agent_image):
    base = tmp_path_factory.mktemp("gateway-attacks")
    repo = make_repository(base / "service")
    pipeline_file, script_file = write_pipeline(base, pipeline(), script())
    run = LiveRun(
        [str(pipeline_file), "--repo", str(repo), "--model", f"scripted:{script_file}", "--output", str(base / "out")],
        cwd=base,
    )  # fmt: skip
    threads = ThreadWatch(run.process.pid)
    try:
        exit_code = run.finish(timeout_s=240)
    finally:
        threads.stop()
    step_folder = repo / ".wave" / "runs" / run.run_id / "steps" / "hostile"
    return {"run": run, "exit_code": exit_code, "out": base / "out", "threads": threads, "step": step_folder}


def artifact(attack, name: str):
    return json.loads((attack["out"] / f"{name}.json").read_text())


def transcript(attack) -> list[dict]:
    return [json.loads(line) for line in (attack["step"] / "transcript.jsonl").read_text().splitlines()]


def test_the_step_completes_and_leaves_nothing(attack, docker):
    run = attack["run"]
    assert attack["exit_code"] == 0, run.stderr
    assert run.step_event("hostile")["state"] == "completed"
    assert_run_left_nothing(docker, run.run_id)


def test_requests_asking_the_provider_to_reach_out_are_refused_by_the_gateway(attack):
    results = artifact(attack, "requests")
    refused = [record for record in transcript(attack) if record["status"] == 403]

    for attack_name in ("mcp_servers", "web_fetch", "beta_header"):
        status, message = results[attack_name]
        assert status == 403 and message.startswith("wave-sandbox: "), (attack_name, message)
    assert "anthropic-beta header (mcp-client-2025-04-04)" in results["mcp_servers"][1]
    # The payloads reached the gateway: it kept the head of each refused body, and the scripted model never saw them.
    heads = " ".join(record["request"]["head"] for record in refused)
    assert "attacker.example/mcp" in heads and "web_fetch_20250910" in heads


def test_bodies_that_are_not_json_and_requests_for_another_model_are_counted_and_kept_capped(attack):
    results = artifact(attack, "requests")
    records = transcript(attack)
    not_json = [record for record in records if record["status"] == 400]

    assert results["not_json"] == [400] * 13 and results["wrong_model"][0] == 403
    assert "may only use the model" in results["wrong_model"][1]
    assert len(not_json) == 13 and all(record["request"]["bytes"] == 4 * 1024 * 1024 for record in not_json)
    size = (attack["step"] / "transcript.jsonl").stat().st_size
    assert size < 256 * 1024, f"the transcript holds {size} bytes after 54 MiB of refused bodies"
    agent_turns = 4
    assert len(records) == agent_turns + 4 + 13  # every request counted and kept, each refused one capped


def test_half_sent_requests_make_no_host_threads_and_the_agent_is_still_answered(attack):
    flood = artifact(attack, "flood")
    agent_log = (attack["step"] / "agent.log").read_text()
    turn_under_flood = re.search(r"turn 3/\d+: \w+ in ([\d.]+)s", agent_log)

    assert flood["opened"] == 1500 and flood["closed_by_gateway"] == 1500, flood  # they reached it and it dropped them
    assert attack["threads"].most < 120, f"the run had {attack['threads'].most} threads under the flood"
    assert turn_under_flood and float(turn_under_flood.group(1)) < 5.0, agent_log
