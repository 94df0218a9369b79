"""Wave's format and markdown_spec contracts end to end: checked on the host on what the step's container
wrote, with their on_failure policies, events and run record. Real daemon, real containers, real git,
scripted model over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import run_cli
from tests.integration.scripted_runs import assert_run_left_nothing, one_commit_repository, say, write_pipeline
from tests.integration.scripted_runs import write_file as write

pytestmark = pytest.mark.docker

FORMAT_PIPELINE = """\
kind: WavePipeline
metadata: {name: formatted}
steps:
  - id: issue
    persona: navigator
    exec: {source: "Draft an issue for {{ input }}"}
    output_artifacts: [{name: issue, path: output/issue.json, type: json}]
    retry: {max_attempts: 2, backoff: fixed, base_delay: 0s}
    handover:
      contract: {type: format, schema_path: github-issue-analysis.schema.json, on_failure: fail}
  - id: pr
    persona: navigator
    dependencies: [issue]
    exec: {source: "Draft a PR"}
    output_artifacts: [{name: pr, path: output/pr.json, type: json}]
    handover:
      contract: {type: format, source: output/pr.json, schema_path: github-pr-draft.schema.json, on_failure: fail}
"""
BAD_ISSUE = {"title": "[TODO] fix", "body": "TBD", "labels": ["bug"]}
GOOD_ISSUE = {"title": "Parser drops trailing comma", "labels": ["bug"],
              "body": "## Description\nThe parser drops a trailing comma.\n\n## Acceptance Criteria\n- it is kept\n"}
BAD_PR = {"title": "Fix things", "head": "main", "base": "main", "body": "Closes #1"}

SPEC_PIPELINE = """\
kind: WavePipeline
metadata: {name: specified}
steps:
  - id: spec
    persona: navigator
    exec: {source: "Specify {{ input }}"}
    output_artifacts: [{name: spec, path: output/spec.md, type: markdown}]
    handover:
      contract: {type: markdown_spec, schema_path: spec.schema.json, on_failure: fail}
  - id: sketch
    persona: navigator
    dependencies: [spec]
    exec: {source: "Sketch {{ input }}"}
    output_artifacts: [{name: sketch, path: output/sketch.md, type: markdown}]
    handover:
      contract: {type: markdown_spec, schema_path: spec.schema.json, on_failure: warn}
  - id: plan
    persona: navigator
    dependencies: [sketch]
    exec: {source: "Plan {{ input }}"}
    output_artifacts: [{name: plan, path: output/plan.md, type: markdown}]
    handover:
      contract: {type: markdown_spec, schema_path: spec.schema.json, on_failure: fail}
"""
SPEC_SCHEMA = {"type": "object", "required": ["title", "user_stories"],
               "properties": {"user_stories": {"type": "array", "minItems": 1}}}
GOOD_SPEC = ("# Title\nKeep trailing commas\n\n## User Stories\n"
             "As a parser user, I want trailing commas kept so that lists round-trip.\n"
             "Acceptance criteria:\n- a trailing comma survives\n")
STORYLESS_SPEC = "# Overview\nA plan without user stories.\n"


def run_json(base: Path, text: str, script: dict):
    repo = one_commit_repository(base / "service")
    pipeline, script_file = write_pipeline(base, text, script)
    completed = run_cli("run", str(pipeline), "trailing commas", "--repo", str(repo), "--model",
                        f"scripted:{script_file}", "--output", str(base / "out"), "--json", cwd=base)
    events = [json.loads(line) for line in completed.stdout.splitlines()]
    record = repo / ".wave" / "runs" / events[0]["run_id"]
    return completed, events, record


def states(events: list[dict], step_id: str) -> list[tuple[str, str]]:
    """The step's events but heartbeats (which a loaded machine interleaves anywhere)."""
    return [(e["state"], e.get("message", "")) for e in events if e["step_id"] == step_id and e["state"] != "heartbeat"]


def writes(path: str, content: str, summary: str) -> list:
    return [[write(path, content)], say(summary)]


def test_format_fails_an_attempt_with_wave_s_violations_then_passes_and_fails_a_bad_pr(tmp_path, agent_image, docker):
    script = {"steps": {
        "issue": writes("output/issue.json", json.dumps(BAD_ISSUE), "Issue drafted")
        + writes("output/issue.json", json.dumps(GOOD_ISSUE), "Issue redrafted"),
        "pr": writes("output/pr.json", json.dumps(BAD_PR), "PR drafted"),
    }}
    completed, events, record = run_json(tmp_path, FORMAT_PIPELINE, script)
    assert completed.returncode == 1, completed.stderr + completed.stdout
    issue = states(events, "issue")
    retrying = next(m for s, m in issue if s == "retrying")
    assert "output/issue.json (format): GitHub issue format validation failed: issue title contains placeholder text" \
        in retrying
    assert ("completed", "Issue redrafted") in issue
    assert any(s == "contract_passed" and "format" in m for s, m in issue)
    failed = dict(states(events, "pr"))["failed"]
    assert "output/pr.json (format): GitHub PR format validation failed: cannot create PR from main/master branch" in failed
    assert "closing keywords" in failed and "PR body should include a checklist" in failed
    run = json.loads((record / "run.json").read_text())
    attempts = run["steps"]["issue"]["attempts"]
    assert [a["contracts"][0]["result"] for a in attempts] == ["failed", "passed"]
    assert run["steps"]["pr"]["contracts"][0]["result"] == "failed"
    assert (record / "steps" / "issue" / "artifacts" / "issue.json").read_text() == json.dumps(GOOD_ISSUE)
    assert_run_left_nothing(docker, record.name)


def test_markdown_spec_passes_a_spec_warns_on_one_without_stories_and_fails_another(tmp_path, agent_image, docker):
    (tmp_path / "spec.schema.json").write_text(json.dumps(SPEC_SCHEMA))
    script = {"steps": {
        "spec": writes("output/spec.md", GOOD_SPEC, "Specified"),
        "sketch": writes("output/sketch.md", STORYLESS_SPEC, "Sketched"),
        "plan": writes("output/plan.md", STORYLESS_SPEC, "Planned"),
    }}
    completed, events, record = run_json(tmp_path, SPEC_PIPELINE, script)
    assert completed.returncode == 1, completed.stderr + completed.stdout
    assert [s for s, _ in states(events, "spec")][-2:] == ["contract_passed", "completed"]
    sketch = states(events, "sketch")
    warning = next(m for s, m in sketch if s == "contract_warning")
    assert warning == ("markdown_spec on output/sketch.md warning (on_failure: warn): markdown spec does not match "
                       "schema requirements: $.user_stories: expected array, got null")  # Go's nil slice is null
    assert sketch[-1][0] == "completed"  # warn: the run goes on
    failed = dict(states(events, "plan"))["failed"]
    assert "output/plan.md (markdown_spec): markdown spec does not match schema requirements" in failed
    run = json.loads((record / "run.json").read_text())
    assert [run["steps"][s]["contracts"][0]["result"] for s in ("spec", "plan")] == ["passed", "failed"]
    assert not (record / "steps" / "spec" / "artifacts" / "spec.json").exists()  # the host writes no copy
    assert_run_left_nothing(docker, record.name)
