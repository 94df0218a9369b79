"""The host's own model call (an llm_judge contract) goes through the gateway's admission, the run's
token budget and the transcript, exactly as a container's request does."""

from __future__ import annotations

import json

from wave_sandbox.gateway.budgets import Budget
from wave_sandbox.gateway.script_file import load_script
from wave_sandbox.gateway.scripted import ScriptedUpstream
from wave_sandbox.gateway.server import Gateway

PAYLOAD = {"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": "judge this"}]}


def gateway(tmp_path, run_budget: Budget) -> Gateway:
    script = tmp_path / "script.yaml"
    script.write_text("steps:\n  s.llm_judge:\n    - - {type: text, text: '{\"criteria_results\": []}'}\n")
    return Gateway(ScriptedUpstream(load_script(script)), bind_host="127.0.0.1", run_budget=run_budget)


def test_the_judge_is_answered_counted_and_recorded(tmp_path):
    judge = gateway(tmp_path, Budget())
    judge.register_step("s.llm_judge", tmp_path / "judge.jsonl", Budget(), model="m", max_tokens=100, tools=())
    status, answer = judge.ask_for_host("s.llm_judge", PAYLOAD)
    assert status == 200 and "criteria_results" in answer["content"][0]["text"]
    used = judge.usage("s.llm_judge")
    assert used.requests == 1 and used.total_tokens > 0 and judge.run_usage().total_tokens == used.total_tokens
    assert json.loads((tmp_path / "judge.jsonl").read_text())["status"] == 200


def test_the_judge_is_refused_past_the_run_budget_and_with_tools(tmp_path):
    judge = gateway(tmp_path, Budget(max_tokens=50))
    judge.register_step("s.llm_judge", tmp_path / "judge.jsonl", Budget(), model="m", max_tokens=100, tools=())
    status, answer = judge.ask_for_host("s.llm_judge", PAYLOAD)
    assert status == 403 and "the run would go over its budget of 50 tokens" in answer["error"]["message"]
    tool_less = gateway(tmp_path, Budget())
    tool_less.register_step("s.llm_judge", tmp_path / "judge.jsonl", Budget(), model="m", max_tokens=100, tools=())
    tooled = {**PAYLOAD, "tools": [{"name": "bash", "description": "d", "input_schema": {"type": "object"}}]}
    status, answer = tool_less.ask_for_host("s.llm_judge", tooled)
    assert status == 403 and "bash" in answer["error"]["message"]
