"""Contract types that run code or ask a model, end to end: test_suite in a checker container (passing,
failing, and unable to reach the gateway), rework on the same clone, llm_judge through the gateway.
Real daemon, real containers, real git, scripted model over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import git, run_cli
from tests.integration.scripted_runs import assert_run_left_nothing, bash, message_text, say, write_pipeline
from tests.integration.scripted_runs import write_file as write

pytestmark = pytest.mark.docker

APP = "def add(a, b):\n    return a - b\n"
TESTS = """\
import unittest

from app import add


class AddTest(unittest.TestCase):
    def test_adds(self):
        self.assertEqual(add(2, 3), 5)


if __name__ == "__main__":
    unittest.main()
"""
PROBE = """\
import os
import socket

path = open("gateway_socket.txt").read().strip()  # the agent read it from its own process's environment
token = os.environ.get("STEP_TOKEN") or os.environ.get("ANTHROPIC_API_KEY") or ""
print("socket=" + path)
print("token=" + repr(os.environ.get("ANTHROPIC_API_KEY")))
print("socket variable=" + repr(os.environ.get("WAVE_SANDBOX_GATEWAY_SOCKET")))
print("socket folder exists=" + str(os.path.exists("/run/wave-sandbox")))
print("interfaces=" + ",".join(sorted(name for _, name in socket.if_nameindex())))
connection = socket.socket(socket.AF_UNIX)
connection.settimeout(5)
try:
    connection.connect(path)
    connection.sendall(b"POST /v1/messages HTTP/1.1\\r\\nHost: gateway\\r\\ncontent-type: application/json\\r\\n"
                       b"x-api-key: " + token.encode() + b"\\r\\nContent-Length: 2\\r\\n\\r\\n[]")
    print("REACHED with status", connection.recv(200).split(b" ")[1].decode())
except Exception as error:
    print("BLOCKED:", type(error).__name__, error)
"""
FIX = bash("cd /src && sed -i 's/a - b/a + b/' app.py")


def repository_with_tests(folder: Path) -> Path:
    """A real repository whose real test command fails until app.add adds."""
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    (folder / "app.py").write_text(APP)
    (folder / "test_app.py").write_text(TESTS)
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "add with a bug")
    return folder


def run_json(base: Path, repo: Path, text: str, script: dict, *extra: str):
    pipeline, script_file = write_pipeline(base, text, script)
    completed = run_cli("run", str(pipeline), "fix add", "--repo", str(repo), "--model", f"scripted:{script_file}",
                        "--output", str(base / "out"), "--json", *extra, cwd=base)
    events = [json.loads(line) for line in completed.stdout.splitlines()]
    record = repo / ".wave" / "runs" / events[0]["run_id"]
    return completed, events, record


def tool_outputs(record: Path, step_id: str) -> list[str]:
    """What each tool call returned, once (from the request that answers it)."""
    exchanges = [json.loads(line) for line in (record / "steps" / step_id / "transcript.jsonl").read_text().splitlines()]
    last_messages = [e["request"]["messages"][-1]["content"] for e in exchanges if "messages" in e["request"]]
    return [str(block.get("content")) for content in last_messages if isinstance(content, list)
            for block in content if block.get("type") == "tool_result"]


def step_events(events: list[dict], step_id: str) -> dict[str, dict]:
    return {e["state"]: e for e in events if e["step_id"] == step_id}


SUITE_PIPELINE = """\
kind: WavePipeline
metadata: {name: suite}
steps:
  - id: fix
    persona: craftsman
    exec: {source: "Fix {{ input }}"}
    workspace: {mount: [{source: ./, target: /src, mode: readwrite}]}
    output_artifacts: [{name: notes, path: output/notes.md, type: markdown}]
    handover:
      contract: {type: test_suite, command: "python3 -B -m unittest -q && python3 -B probe.py", on_failure: fail}
"""


def suite_script(fixes: bool) -> dict:
    turns = [
        [write("/src/probe.py", PROBE),
         bash("cd /src && tr '\\0' '\\n' < /proc/$PPID/environ | sed -n 's/^WAVE_SANDBOX_GATEWAY_SOCKET=//p'"
              " > gateway_socket.txt && STEP_TOKEN=$(tr '\\0' '\\n' < /proc/$PPID/environ"
              " | sed -n 's/^ANTHROPIC_API_KEY=//p') python3 -B probe.py")],
        [write("output/notes.md", "# Notes\n\nChanged add.\n")],
        say("Fixed add" if fixes else "Left add alone"),
    ]
    if fixes:
        turns[0].insert(0, FIX)
    return {"steps": {"fix": turns}}


def test_a_passing_test_suite_runs_shut_off_from_the_gateway(tmp_path, agent_image, docker):
    repo = repository_with_tests(tmp_path / "service")
    completed, events, record = run_json(tmp_path, repo, SUITE_PIPELINE, suite_script(fixes=True))
    assert completed.returncode == 0, completed.stderr + completed.stdout
    fix = step_events(events, "fix")
    assert "test_suite passed" in fix["contract_passed"]["message"]
    # The agent's own container reaches the gateway with the same probe, through the same path: the probe can tell.
    reached = [line for output in tool_outputs(record, "fix") for line in output.splitlines() if "REACHED" in line]
    assert reached and reached[0].startswith("REACHED with status 4") and reached[0] != "REACHED with status 401", (
        reached)  # answered, its token taken (the request itself is refused)
    log = (record / "steps" / "fix" / "contracts" / "test_suite-1.log").read_text()
    assert "socket=/run/wave-sandbox/gateway.sock" in log  # the payload: the path the agent reached its gateway by
    assert "token=None" in log and "socket variable=None" in log  # no step token, no socket named in the checker
    assert "socket folder exists=False" in log and "interfaces=lo\n" in log  # no socket folder, no network
    assert "BLOCKED: FileNotFoundError" in log and "REACHED" not in log
    assert "OK" in log  # the real test command ran, and passed
    run = json.loads((record / "run.json").read_text())
    assert run["steps"]["fix"]["contracts"][0]["note"] == "output kept in steps/fix/contracts/test_suite-1.log"
    assert len(run["commits"]) == 1
    assert_run_left_nothing(docker, record.name)


def test_a_failing_test_suite_fails_the_step_with_the_test_output(tmp_path, agent_image, docker):
    repo = repository_with_tests(tmp_path / "service")
    completed, events, record = run_json(tmp_path, repo, SUITE_PIPELINE, suite_script(fixes=False))
    assert completed.returncode == 1
    failed = step_events(events, "fix")["failed"]["message"]
    assert "test command 'python3 -B -m unittest -q && python3 -B probe.py' exited with status 1" in failed
    assert "AssertionError: -1 != 5" in failed
    assert "AssertionError: -1 != 5" in (record / "steps" / "fix" / "contracts" / "test_suite-1.log").read_text()
    assert json.loads((record / "run.json").read_text())["commits"] == []  # a failed step commits nothing
    assert_run_left_nothing(docker, record.name)


REWORK_PIPELINE = """\
kind: WavePipeline
metadata: {name: rework}
steps:
  - id: setup
    persona: craftsman
    exec: {source: "Note the plan"}
    workspace: {mount: [{source: ./, target: /src, mode: readwrite}]}
  - id: implement
    persona: craftsman
    dependencies: [setup]
    exec: {source: "Implement"}
    workspace: {mount: [{source: ./, target: /src, mode: readwrite}]}
    output_artifacts: [{name: change, path: output/change.md, type: markdown}]
    handover:
      contract: {type: test_suite, command: "python3 -B -m unittest -q", on_failure: rework, rework_step: fix}
  - id: fix
    persona: craftsman
    rework_only: true
    exec: {source: "Fix what failed"}
    workspace: {mount: [{source: ./, target: /src, mode: readwrite}]}
    output_artifacts: [{name: change, path: output/fixed-change.md, type: markdown}]
"""


def test_rework_runs_the_rework_step_on_the_same_clone_and_commits_again(tmp_path, agent_image, docker):
    repo = repository_with_tests(tmp_path / "service")
    script = {"steps": {
        "setup": [[bash("cd /src && echo 'plan: make add add' > PLAN.md")], say("Plan noted")],
        "implement": [[bash("cd /src && echo '# add adds' >> app.py"), write("output/change.md", "# Change\n")],
                      say("Implemented")],
        "fix": [[bash("cd /src && grep -q 'add adds' app.py && echo SAME-CLONE"), FIX,
                 write("output/fixed-change.md", "# Change\n\nFixed add.\n")], say("Fixed add")],
    }}
    completed, events, record = run_json(tmp_path, repo, REWORK_PIPELINE, script)
    assert completed.returncode == 0, completed.stderr + completed.stdout
    implement = step_events(events, "implement")
    assert implement["reworking"]["message"] == "rework: executing step fix after implement failed"
    states = [e["state"] for e in events if e["step_id"] == "implement" and e["state"] not in ("activity", "heartbeat")]
    assert states == ["started", "contract_failed", "reworking", "contract_passed", "completed"]  # checked again
    assert (record / "steps" / "implement" / "contracts" / "test_suite-2.log").read_text().strip().endswith("OK")
    assert implement["completed"]["message"].startswith("reworked by fix: Fixed add")
    assert step_events(events, "fix")["completed"]["message"] == "Fixed add"
    assert "SAME-CLONE" in (record / "steps" / "fix" / "transcript.jsonl").read_text()
    run = json.loads((record / "run.json").read_text())
    assert run["steps"]["implement"]["reworked_by"] == "fix" and run["steps"]["fix"]["reworks"] == "implement"
    branch, commits = run["branch"], run["commits"]
    assert len(commits) == 2
    assert git(repo, "log", "--format=%s", branch).splitlines()[:2] == ["Fixed add", "Plan noted"]
    assert "a + b" in git(repo, "show", f"{branch}:app.py")
    assert (record / "steps" / "implement" / "artifacts" / "change.md").read_text() == "# Change\n\nFixed add.\n"
    assert_run_left_nothing(docker, record.name)


JUDGE_PIPELINE = """\
kind: WavePipeline
metadata: {name: judged}
steps:
  - id: good
    persona: summarizer
    exec: {source: "Report"}
    output_artifacts: [{name: good, path: output/good.md, type: markdown}]
    handover:
      contract: {type: llm_judge, model: balanced, criteria: [names the root cause, has a timeline]}
  - id: bad
    persona: summarizer
    optional: true
    exec: {source: "Report"}
    output_artifacts: [{name: bad, path: output/bad.md, type: markdown}]
    handover:
      contract: {type: llm_judge, criteria: [names the root cause, has a timeline], threshold: 1.0, on_failure: fail}
"""


def verdict(second_passes: bool) -> list:
    answer = {"criteria_results": [{"criterion": "names the root cause", "pass": True, "reasoning": "it does"},
                                   {"criterion": "has a timeline", "pass": second_passes,
                                    "reasoning": "it has one" if second_passes else "no timeline at all"}],
              "overall_pass": second_passes, "score": 1.0 if second_passes else 0.5, "summary": "judged"}
    return [say(json.dumps(answer))]


def transcript_tokens(path: Path) -> int:
    return sum(e["usage"]["input_tokens"] + e["usage"]["output_tokens"]
               for e in map(json.loads, path.read_text().splitlines()))


def test_llm_judge_is_one_gateway_call_counted_in_the_budget(tmp_path, agent_image, docker):
    repo = repository_with_tests(tmp_path / "service")
    script = {"steps": {
        "good": [[write("output/good.md", "# Report\nRoot cause: subtraction.\n")], say("Reported")],
        "good.llm_judge": verdict(True),
        "bad": [[write("output/bad.md", "# Report\nRoot cause: subtraction.\n")], say("Reported")],
        "bad.llm_judge": verdict(False),
    }}
    completed, events, record = run_json(tmp_path, repo, JUDGE_PIPELINE, script, "--max-parallel", "1")
    assert completed.returncode == 0, completed.stderr + completed.stdout
    assert "score 100% (threshold 100%)" in step_events(events, "good")["contract_passed"]["message"]
    bad = step_events(events, "bad")
    assert "LLM judge score 50% is below threshold 100%: has a timeline: no timeline at all" in bad["failed"]["message"]
    for step_id in ("good", "bad"):
        folder = record / "steps" / step_id
        judge = [json.loads(line) for line in (folder / "judge.transcript.jsonl").read_text().splitlines()]
        assert len(judge) == 1 and judge[0]["status"] == 200 and "tools" not in judge[0]["request"]
        assert "names the root cause" in message_text(judge[0]["request"]["messages"][0])
        step = json.loads((record / "run.json").read_text())["steps"][step_id]
        assert step["tokens_in"] + step["tokens_out"] == (
            transcript_tokens(folder / "transcript.jsonl") + transcript_tokens(folder / "judge.transcript.jsonl"))
    assert_run_left_nothing(docker, record.name)


REVIEW_PIPELINE = """\
kind: WavePipeline
metadata: {name: reviewed}
steps:
  - id: change
    persona: craftsman
    exec: {source: "Make the tests pass"}
    workspace: {mount: [{source: ./, target: /src, mode: readwrite}]}
    output_artifacts: [{name: change, path: output/change.md, type: markdown}]
    handover:
      contract: {type: agent_review, persona: auditor, criteria_path: review-criteria.md, on_failure: fail}
"""
REJECTION = {"verdict": "fail", "issues": [{"severity": "critical", "description": "test_adds was deleted"}],
             "suggestions": ["fix add instead"], "confidence": 0.9, "summary": "the change deletes the failing test"}


def test_agent_review_rejects_a_diff_in_its_own_read_only_container(tmp_path, agent_image, docker):
    repo = repository_with_tests(tmp_path / "service")
    (repo / "review-criteria.md").write_text("Reject a change that deletes or weakens a test.\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "criteria")
    script = {"steps": {
        "change": [[bash("cd /src && sed -i '/def test_adds/,/assertEqual/d' test_app.py"),
                    write("output/change.md", "# Change\n\nTests pass now.\n")], say("Tests pass")],
        "change.review": [
            [bash("cat /wave/artifacts/diff; cat /wave/artifacts/change.md; touch /src/app.py 2>&1 || true")],
            [write("output/review.json", json.dumps(REJECTION))],
            say("Rejected"),
        ],
    }}
    completed, events, record = run_json(tmp_path, repo, REVIEW_PIPELINE, script)
    assert completed.returncode == 1
    failed = step_events(events, "change")["failed"]["message"]
    assert "agent review verdict: fail — the change deletes the failing test; [critical] test_adds was deleted" in failed
    seen = "\n".join(tool_outputs(record, "change.review"))
    assert "-    def test_adds(self):" in seen  # the diff reached the reviewer
    assert "Tests pass now." in seen  # and the artifact under review
    assert "Read-only file system" in seen  # the reviewer cannot change the step's checkout
    prompt = json.loads((record / "steps" / "change.review" / "transcript.jsonl").read_text().splitlines()[0])
    assert "Reject a change that deletes or weakens a test." in message_text(prompt["request"]["messages"][0])
    assert not (tmp_path / "out" / "review.json").exists()
    run = json.loads((record / "run.json").read_text())
    assert run["commits"] == [] and run["steps"]["change"]["contracts"][0]["result"] == "failed"
    assert_run_left_nothing(docker, record.name)


DIFF_PIPELINE = """\
kind: WavePipeline
metadata: {name: diffs}
steps:
  - id: change
    persona: craftsman
    exec: {source: "Make the tests pass"}
    workspace: {mount: [{source: ./, target: /src, mode: readwrite}]}
    handover:
      contracts:
        - {type: source_diff, glob: "*.py", exclude: ["docs/**"], on_failure: fail}
        - {type: test_diff, test_file_pattern: ["test_*.py"], test_func_pattern: "^\\\\s*def test_", on_failure: fail}
"""


def test_git_contracts_read_what_the_step_changed_in_the_clone(tmp_path, agent_image, docker):
    repo = repository_with_tests(tmp_path / "service")
    script = {"steps": {"change": [
        [bash("cd /src && sed -i '/def test_adds/,/assertEqual/d' test_app.py && mkdir -p docs && echo x > docs/n.py")],
        say("Tests pass")]}}
    completed, events, record = run_json(tmp_path, repo, DIFF_PIPELINE, script)
    assert completed.returncode == 1
    change = step_events(events, "change")
    assert change["contract_passed"]["message"].startswith("source_diff passed")  # test_app.py counts, docs/ not
    assert "test_diff: the result has 0 test declaration(s) against 1 in the tree before the step (net deletion 1" in (
        change["failed"]["message"])
    assert_run_left_nothing(docker, record.name)
