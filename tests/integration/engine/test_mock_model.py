"""`--model mock` end to end (issue 11, item 9): no script, no key; the real gateway, SDK, agent and
containers; every declared artifact written so its contracts pass; a command step runs for real; the
run says it was a mock in its summary, its record and its branch's commit.

The repository has the shape of a Wave project: the pipeline in .agents/pipelines, its schema in
.agents/contracts, artifacts under .agents/output.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.integration.conftest import git, run_cli
from tests.transcripts import response_message
from wave_sandbox.contracts.json_schema import validation_errors

pytestmark = pytest.mark.docker

SCHEMA = {
    "type": "object",
    "required": ["repository", "findings", "severity", "generated_at"],
    "properties": {
        "repository": {"type": "string", "pattern": "^[^/]+/[^/]+$"},
        "severity": {"enum": ["low", "medium", "high"]},
        "generated_at": {"type": "string", "format": "date-time"},
        "findings": {"type": "array", "minItems": 2, "items": {
            "type": "object", "required": ["id", "score"],
            "properties": {"id": {"type": "string", "pattern": "^DVG-\\d{3}$"},
                           "score": {"type": "integer", "minimum": 3, "maximum": 9}}}},
    },
    "additionalProperties": False,
}

PIPELINE = """\
kind: WavePipeline
metadata:
  name: mocky
steps:
  - id: analyze
    persona: navigator
    exec: {type: prompt, source: "Analyze {{ input }}"}
    output_artifacts:
      - {name: analysis, path: .agents/output/analysis.json, type: json}
    handover:
      contract: {type: json_schema, source: .agents/output/analysis.json, schema_path: .agents/contracts/analysis.schema.json}
  - id: report
    persona: summarizer
    dependencies: [analyze]
    memory:
      inject_artifacts: [{step: analyze, artifact: analysis, as: analysis}]
    exec: {source: "Report"}
    output_artifacts:
      - {name: report, path: .agents/output/report.md, type: markdown}
    handover:
      contracts:
        - type: markdown_sections
          source: .agents/output/report.md
          sections:
            - {heading: summary, mentions: [orders]}
            - {heading: timeline, check: timeline}
            - {heading: [actions, "action items"], check: action_items}
          blameless: true
  - id: notes
    persona: auditor
    dependencies: [analyze]
    permissions: {allowed_tools: [Read, Bash]}
    exec: {source: "Notes"}
    output_artifacts:
      - {name: notes, path: .agents/output/notes.txt}
    handover:
      contract: {type: non_empty_file, source: .agents/output/notes.txt}
  - id: apply
    type: command
    dependencies: [report, notes, analyze]
    workspace: {type: worktree, branch: "{{ pipeline_id }}"}
    script: |
      echo "applied by a command step" >> /src/README.md
      jq -r .severity "$WAVE_DEP_ANALYZE_ANALYSIS" > .agents/output/applied.txt
    output_artifacts:
      - {name: applied, path: .agents/output/applied.txt}
"""


@pytest.fixture(scope="module")
def mock_run(tmp_path_factory, agent_image, docker):
    base = tmp_path_factory.mktemp("mock")
    repo = base / "project"
    (repo / ".agents" / "pipelines").mkdir(parents=True)
    (repo / ".agents" / "contracts").mkdir()
    (repo / ".agents" / "pipelines" / "mocky.yaml").write_text(PIPELINE)
    (repo / ".agents" / "contracts" / "analysis.schema.json").write_text(json.dumps(SCHEMA))
    (repo / "README.md").write_text("# project\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    environment = {key: value for key, value in os.environ.items() if key != "ANTHROPIC_API_KEY"}
    completed = run_cli("run", "mocky", "orders are slow", "--repo", str(repo), "--model", "mock",
                        "--output", str(base / "out"), "--json", cwd=base, env=environment)
    events = [json.loads(line) for line in completed.stdout.splitlines()]
    record = repo / ".wave" / "runs" / events[0]["run_id"]
    return {"completed": completed, "events": events, "record": record, "repo": repo, "out": base / "out"}


def test_a_mock_run_passes_every_contract(mock_run):
    completed = mock_run["completed"]
    assert completed.returncode == 0, completed.stderr
    done = {e["step_id"] for e in mock_run["events"] if e["state"] == "completed"}
    assert done == {"analyze", "report", "notes", "apply"}


def test_the_mock_json_artifact_is_valid_against_the_schema(mock_run):
    analysis = json.loads((mock_run["out"] / "analysis.json").read_text())
    assert validation_errors(analysis, SCHEMA) == []
    assert len(analysis["findings"]) == 2 and analysis["findings"][0]["id"].startswith("DVG-")


def test_the_mock_went_through_the_gateway_and_the_agent_tools(mock_run):
    record = mock_run["record"]
    exchanges = [json.loads(line) for line in (record / "steps" / "notes" / "transcript.jsonl").read_text().splitlines()]
    tools_used = [block["name"] for exchange in exchanges for block in response_message(exchange["response"])["content"]
                  if block.get("type") == "tool_use"]
    assert tools_used == ["bash"]  # the auditor here has no write_file: the mock writes through bash
    assert (mock_run["out"] / "notes.txt").read_text().strip()
    report = (mock_run["out"] / "report.md").read_text()
    assert "orders" in report and "## Timeline" in report


def test_the_command_step_runs_for_real_under_mock(mock_run):
    severity = json.loads((mock_run["out"] / "analysis.json").read_text())["severity"]
    assert (mock_run["out"] / "applied.txt").read_text() == severity + "\n"


def test_a_mock_run_says_so_in_summary_record_and_commit(mock_run):
    completed, events, record = mock_run["completed"], mock_run["events"], mock_run["record"]
    assert "this was a mock run (--model mock)" in completed.stderr
    assert events[-1]["state"] == "run_completed" and events[-1]["mock"] is True
    run = json.loads((record / "run.json").read_text())
    assert run["mock"] is True and run["model"] == "mock"
    branch = events[-1]["branch"]
    message = git(mock_run["repo"], "log", "-1", "--format=%B", branch)
    assert "Wave-Model: mock" in message and "Mock run (--model mock)" in message
    assert git(mock_run["repo"], "diff", "--name-only", "main", branch).split() == ["README.md"]
