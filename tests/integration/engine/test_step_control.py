"""Wave's step control end to end: retries in fresh containers, warn/skip/continue, rejection, and a
retry storm that ends at the step's budget. Real daemon, real containers, scripted model over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import run_cli
from tests.integration.scripted_runs import (
    assert_run_left_nothing, bash, message_text, one_commit_repository, say, write_pipeline,
)
from tests.integration.scripted_runs import write_file as write

pytestmark = pytest.mark.docker

SCHEMA = {"type": "object", "required": ["ok"], "properties": {"ok": {"const": True}}}

RETRY_PIPELINE = """\
kind: WavePipeline
metadata: {name: retries}
steps:
  - id: draft
    persona: navigator
    exec: {source: "Draft {{ input }}"}
    output_artifacts: [{name: draft, path: output/draft.json, type: json}]
    retry: {max_attempts: 3, backoff: fixed, base_delay: 0s}
    handover:
      contract: {type: json_schema, schema_path: ok.schema.json, on_failure: fail}
"""


def attempt_turns(ok: bool) -> list:
    """One attempt: say whether /workspace is fresh (a marker of an earlier attempt), leave a marker, write."""
    return [
        [bash("if test -f marker; then echo SAME-CONTAINER; else echo FRESH-CONTAINER; fi; touch marker")],
        [write("output/draft.json", json.dumps({"ok": ok}))],
        say(f"Draft written ok={ok}"),
    ]


def run_json_events(base: Path, repo: Path, pipeline: Path, script: Path, *extra: str):
    completed = run_cli("run", str(pipeline), "the thing", "--repo", str(repo), "--model", f"scripted:{script}",
                        "--output", str(base / "out"), "--json", *extra, cwd=base)
    events = [json.loads(line) for line in completed.stdout.splitlines()]
    record = repo / ".wave" / "runs" / events[0]["run_id"] if events else None
    return completed, events, record


def transcript_first_prompts(record: Path, step_id: str) -> list[str]:
    exchanges = [json.loads(line) for line in (record / "steps" / step_id / "transcript.jsonl").read_text().splitlines()]
    return [message_text(e["request"]["messages"][0]) for e in exchanges if len(e["request"]["messages"]) == 1]


def tool_outputs(record: Path, step_id: str) -> list[str]:
    exchanges = [json.loads(line) for line in (record / "steps" / step_id / "transcript.jsonl").read_text().splitlines()]
    found = []
    for exchange in exchanges:  # each tool result once: in the request that answers its call
        for message in exchange["request"]["messages"][-1:]:
            for block in message["content"] if isinstance(message["content"], list) else []:
                if block.get("type") == "tool_result":
                    content = block.get("content")
                    found.append(content if isinstance(content, str) else json.dumps(content))
    return found


@pytest.fixture(scope="module")
def retry_run(tmp_path_factory, agent_image, docker):
    base = tmp_path_factory.mktemp("retries")
    repo = one_commit_repository(base / "service")
    (base / "ok.schema.json").write_text(json.dumps(SCHEMA))
    script = {"steps": {"draft": attempt_turns(False) + attempt_turns(False) + attempt_turns(True)}}
    pipeline, script_file = write_pipeline(base, RETRY_PIPELINE, script)
    completed, events, record = run_json_events(base, repo, pipeline, script_file)
    return {"completed": completed, "events": events, "record": record, "repo": repo, "base": base}


def test_a_contract_that_fails_twice_passes_on_the_third_attempt(retry_run):
    completed, events = retry_run["completed"], retry_run["events"]
    assert completed.returncode == 0, completed.stderr
    states = [(e["state"], e["message"]) for e in events if e["step_id"] == "draft"]
    assert [s for s, _ in states].count("retrying") == 2
    assert [s for s, _ in states].count("contract_failed") == 2
    assert [s for s, _ in states if s.startswith("contract_")][-1] == "contract_passed"
    assert any(m.startswith("attempt 2/3 after: output/draft.json (json_schema): $.ok") for s, m in states if s == "retrying")
    assert states[-1][0] == "completed" and states[-1][1] == "Draft written ok=True"


def test_each_attempt_is_a_fresh_container_told_the_earlier_errors(retry_run):
    record = retry_run["record"]
    outputs = [o for o in tool_outputs(record, "draft") if "CONTAINER" in o]
    assert len(outputs) == 3 and all("FRESH-CONTAINER" in o for o in outputs), outputs
    first, second, third = transcript_first_prompts(record, "draft")
    assert "earlier attempts failed" not in first
    assert "## This is attempt 2 of 3" in second and "Attempt 1:" in second
    assert "Attempt 1:" in third and "Attempt 2:" in third and "$.ok" in third
    assert "nothing the earlier attempts wrote in /workspace is left" in third


def test_attempts_are_in_the_record_show_and_logs(retry_run):
    record, repo, base = retry_run["record"], retry_run["repo"], retry_run["base"]
    run = json.loads((record / "run.json").read_text())
    attempts = run["steps"]["draft"]["attempts"]
    assert [a["succeeded"] for a in attempts] == [False, False, True]
    assert attempts[0]["contracts"][0]["result"] == "failed" and attempts[2]["contracts"][0]["result"] == "passed"
    shown = run_cli("show", run["run_id"], "--repo", str(repo), cwd=base).stdout
    assert "attempt 1/3 failed" in shown and "attempt 3/3 succeeded" in shown
    assert "contract json_schema on output/draft.json: passed" in shown
    log = (record / "steps" / "draft" / "agent.log").read_text()
    assert "attempt 2: a fresh container" in log and "attempt 3: a fresh container" in log
    logs = run_cli("logs", run["run_id"], "draft", "--repo", str(repo), cwd=base)
    assert logs.returncode == 0 and logs.stdout.count("FRESH-CONTAINER") >= 3


SOFT_PIPELINE = """\
kind: WavePipeline
metadata: {name: soft}
steps:
  - id: warned
    persona: navigator
    exec: {source: "Write"}
    output_artifacts: [{name: warned, path: output/warned.json, type: json}]
    handover:
      contracts:
        - {type: json_schema, schema_path: ok.schema.json, on_failure: warn}
        - {type: non_empty_file}
  - id: skipped
    persona: navigator
    exec: {source: "Write"}
    output_artifacts: [{name: skipped, path: output/skipped.json, type: json}]
    handover:
      contracts:
        - {type: json_schema, schema_path: ok.schema.json, on_failure: skip}
        - {type: event_contains, events: [{state: never_happens}]}
  - id: after
    persona: summarizer
    dependencies: [warned, skipped]
    exec: {source: "Summarise"}
    memory:
      inject_artifacts:
        - {step: warned, artifact: warned, as: warned}
"""


def test_warn_and_skip_let_the_run_go_on(tmp_path, agent_image, docker):
    repo = one_commit_repository(tmp_path / "service")
    (tmp_path / "ok.schema.json").write_text(json.dumps(SCHEMA))
    script = {"steps": {
        "warned": [[write("output/warned.json", '{"ok": false}')], say("Warned written")],
        "skipped": [[write("output/skipped.json", '{"ok": false}')], say("Skipped written")],
        "after": [[bash("cat /wave/artifacts/warned")], say("Summary done")],
    }}
    pipeline, script_file = write_pipeline(tmp_path, SOFT_PIPELINE, script)
    completed, events, record = run_json_events(tmp_path, repo, pipeline, script_file, "--max-parallel", "1")
    assert completed.returncode == 0, completed.stderr
    by_step = {(e["state"], e["step_id"]): e for e in events}
    assert "on_failure: warn" in by_step[("contract_warning", "warned")]["message"]
    assert by_step[("contract_passed", "warned")]["message"].startswith("non_empty_file on output/warned.json passed")
    assert "on_failure: skip" in by_step[("contract_skip", "skipped")]["message"]
    assert ("contract_failed", "skipped") not in by_step  # the event_contains after the skip never ran
    assert by_step[("completed", "after")]["message"] == "Summary done"
    assert (tmp_path / "out" / "warned.json").read_text() == '{"ok": false}'  # a warned artifact is used
    assert any('{"ok": false}' in o for o in tool_outputs(record, "after"))
    assert_run_left_nothing(docker, record.name)


STORM_PIPELINE = """\
kind: WavePipeline
metadata: {name: storm}
steps:
  - id: storm
    persona: navigator
    exec: {source: "Loop"}
    output_artifacts: [{name: never, path: output/never.json, type: json}]
    retry: {policy: aggressive, max_attempts: 10, base_delay: 0s}
"""


def test_a_retry_storm_ends_at_the_step_budget_with_one_line_and_nothing_left(tmp_path, agent_image, docker):
    repo = one_commit_repository(tmp_path / "service")
    (repo / ".wave" / "personas").mkdir(parents=True)
    (repo / ".wave" / "personas" / "navigator.yaml").write_text("max_turns: 2\n")
    # Every turn calls a tool: each attempt ends at its turn cap, and attempts share the step's 7 requests.
    script = {"steps": {"storm": [[bash("echo again")] for _ in range(40)]}}
    pipeline, script_file = write_pipeline(tmp_path, STORM_PIPELINE, script)
    completed, events, record = run_json_events(tmp_path, repo, pipeline, script_file)
    assert completed.returncode == 1
    failed = [e for e in events if e["state"] == "failed" and e["step_id"] == "storm"]
    assert len(failed) == 1 and "went over its budget of 7 requests" in failed[0]["message"], failed
    attempts = json.loads((record / "run.json").read_text())["steps"]["storm"]["attempts"]
    assert 2 <= len(attempts) < 10  # the budget, not the policy, ended it
    assert "Traceback" not in completed.stderr
    assert_run_left_nothing(docker, record.name)


RUN_TOKENS = "12000"
"""The run's token budget (WAVE_SANDBOX_RUN_TOKENS, the operator's setting): a few requests' worth (each
holds its prompt, about 3k tokens, and max_tokens), under the step's own budget of requests."""

SPENDING_CHILD = """\
kind: WavePipeline
metadata: {name: spend}
steps:
  - id: work
    persona: navigator
    exec: {source: "Work"}
    output_artifacts: [{name: result, path: output/result.json, type: json}]
"""

ENDLESS_LOOP = """\
kind: WavePipeline
metadata: {name: endless}
steps:
  - id: again
    pipeline: spend
    loop: {max_iterations: 50, until: "{{ work.out.result.done }}"}
"""


def small_navigator(repo: Path) -> None:
    """Every request holds at most its prompt and 256 tokens; two turns per conversation."""
    (repo / ".wave" / "personas").mkdir(parents=True, exist_ok=True)
    (repo / ".wave" / "personas" / "navigator.yaml").write_text("max_turns: 2\nmax_tokens: 256\n")


def run_with_run_budget(base: Path, repo: Path, pipeline: Path, script: Path):
    completed = run_cli("run", str(pipeline), "the thing", "--repo", str(repo), "--model", f"scripted:{script}",
                        "--output", str(base / "out"), "--json", cwd=base, env={"WAVE_SANDBOX_RUN_TOKENS": RUN_TOKENS})
    events = [json.loads(line) for line in completed.stdout.splitlines()]
    return completed, events, repo / ".wave" / "runs" / events[0]["run_id"]


def test_a_retry_storm_ends_at_the_runs_token_budget_with_one_line_and_nothing_left(tmp_path, agent_image, docker):
    repo = one_commit_repository(tmp_path / "service")
    small_navigator(repo)
    script = {"steps": {"storm": [[bash("echo again")] for _ in range(40)]}}
    pipeline, script_file = write_pipeline(tmp_path, STORM_PIPELINE, script)
    completed, events, record = run_with_run_budget(tmp_path, repo, pipeline, script_file)
    assert completed.returncode == 1 and "Traceback" not in completed.stderr
    failed = [e for e in events if e["state"] == "failed" and e["step_id"] == "storm"]
    assert len(failed) == 1 and f"the run would go over its budget of {RUN_TOKENS} tokens" in failed[0]["message"], failed
    assert "\n" not in events[-1]["message"] and events[-1]["message"].startswith("step storm failed: ")
    attempts = json.loads((record / "run.json").read_text())["steps"]["storm"]["attempts"]
    assert 2 <= len(attempts) < 10  # the run's budget, not the policy, ended it
    assert "budget of 7 requests" not in failed[0]["message"]  # nor the step's budget of requests
    assert_run_left_nothing(docker, record.name)


def test_a_loop_that_never_ends_stops_at_the_runs_token_budget_with_one_line_and_nothing_left(tmp_path, agent_image, docker):
    repo = one_commit_repository(tmp_path / "service")
    small_navigator(repo)
    (repo / ".wave" / "pipelines").mkdir(parents=True)
    (repo / ".wave" / "pipelines" / "spend.yaml").write_text(SPENDING_CHILD)
    not_done = [[write("output/result.json", json.dumps({"done": False}))], say("not yet")]
    script = {"steps": {f"again.{n}.work": not_done for n in range(1, 51)}}
    pipeline, script_file = write_pipeline(tmp_path, ENDLESS_LOOP, script)
    completed, events, record = run_with_run_budget(tmp_path, repo, pipeline, script_file)
    assert completed.returncode == 1 and "Traceback" not in completed.stderr
    ran = [e["step_id"] for e in events if e["state"] == "completed" and e["step_id"].endswith(".work")]
    assert 1 <= len(ran) < 50, ran  # the run's budget, not the loop's cap, ended it
    final = events[-1]
    assert final["state"] == "run_failed" and "\n" not in final["message"]
    assert final["message"].startswith("step again failed: sub-pipeline spend failed: step again.")
    assert f"the run would go over its budget of {RUN_TOKENS} tokens" in final["message"]
    assert_run_left_nothing(docker, record.name)


REJECTED_PIPELINE = """\
kind: WavePipeline
metadata: {name: rejecting}
steps:
  - id: assess
    persona: navigator
    exec: {source: "Is it implementable?"}
    output_artifacts: [{name: assessment, path: output/assessment.json, type: json}]
    handover:
      contract: {type: json_schema, schema_path: ok.schema.json, on_failure: rejected}
  - id: implement
    persona: navigator
    dependencies: [assess]
    exec: {source: "never runs"}
"""


def test_a_rejected_contract_ends_the_run_as_rejected_with_exit_zero(tmp_path, agent_image, docker):
    repo = one_commit_repository(tmp_path / "service")
    (tmp_path / "ok.schema.json").write_text(json.dumps(SCHEMA))
    script = {"steps": {"assess": [[write("output/assessment.json", '{"ok": false}')], say("Not implementable")]}}
    pipeline, script_file = write_pipeline(tmp_path, REJECTED_PIPELINE, script)
    completed, events, record = run_json_events(tmp_path, repo, pipeline, script_file)
    assert completed.returncode == 0, completed.stderr
    assess = {e["state"]: e for e in events if e["step_id"] == "assess"}
    assert assess["rejected"]["message"].startswith("design rejection: json_schema contract reported a non-actionable")
    skipped = [e for e in events if e["step_id"] == "implement"]
    assert [e["state"] for e in skipped] == ["skipped"] and skipped[0]["message"] == "the run was rejected at assess"
    assert events[-1]["state"] == "run_completed" and events[-1]["message"].startswith("rejected at step assess")
    run = json.loads((record / "run.json").read_text())
    assert run["status"] == "rejected" and run["steps"]["assess"]["status"] == "rejected"
    assert_run_left_nothing(docker, record.name)
