"""Contracts end to end: a failed check goes back to the agent once, in the same container, with the
exact errors; a fixed artifact passes, a second failure fails the step and skips its dependents.

Real daemon, real containers, scripted model over real HTTP."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import assert_run_left_nothing, run_cli, run_ids_in
from tests.integration.scripted_runs import bash, one_commit_repository, say, write_pipeline
from tests.integration.scripted_runs import write_file as write
from wave_sandbox.resources import builtin_pipelines_dir

pytestmark = pytest.mark.docker

SEED_YAML_COPY = Path(__file__).resolve().parents[2] / "unit" / "spec" / "seed" / "incident-response.seed.yaml"

CONTRACT_PIPELINE = """\
kind: WavePipeline
metadata:
  name: contracts
steps:
  - id: triage
    persona: navigator
    exec:
      source: "Triage {{ input }}"
    output_artifacts:
      - name: triage
        path: output/triage.json
        type: json
    handover:
      contract:
        type: json_schema
        source: output/triage.json
        schema_path: schemas/triage.schema.json
  - id: report
    persona: summarizer
    dependencies: [triage]
    exec:
      source: "Write the report"
    output_artifacts:
      - name: report
        path: output/report.md
        type: markdown
    handover:
      contracts:
        - type: non_empty_file
          source: output/report.md
        - type: markdown_sections
          source: output/report.md
          sections:
            - heading: timeline
              check: timeline
          blameless: true
  - id: after-report
    persona: summarizer
    dependencies: [report]
    exec:
      source: "never runs"
"""

BAD_TRIAGE = {
    "symptom": "500s on /api/orders", "severity": "P0", "started_at": "2026-02-04T14:30:05Z",
    "blast_radius": {"endpoints": ["/api/orders"]}, "recent_changes": [{"commit": "42c379b"}],
    "mitigation_options": ["roll back"],
}
BAD_REPORT = """\
# Report

## Timeline (UTC)

- 14:30 errors start
- 14:15 deploy

The developer forgot the index.
"""


SCRIPT = {"steps": {
    "triage": [
        # first attempt: a severity outside P1-P4 and no rationale; a marker proves the retry's container is the same
        [write("output/triage.json", json.dumps(BAD_TRIAGE, indent=2)), bash("echo first-attempt > marker")],
        say("Triage written"),
        # the retry: fix the file the first attempt left in /workspace, in place
        [bash("test -f marker && sed -i 's/\"P0\"/\"P1\", \"severity_rationale\": \"every order request fails\"/' "
              "output/triage.json && cat marker")],
        say("Triage fixed"),
    ],
    "report": [
        [write("output/report.md", BAD_REPORT)],
        say("Report written"),
        [write("output/report.md", BAD_REPORT.replace("- 14:30 errors start\n- 14:15 deploy\n",
                                                       "- 14:15 deploy\n- 14:30 errors start\n"))],
        say("Report rewritten"),
    ],
}}


def write_files(folder: Path, pipeline_text: str, script: dict) -> tuple[Path, Path]:
    """The pipeline and script, plus the triage schema the pipeline's contract names."""
    (folder / "schemas").mkdir(exist_ok=True)
    shutil.copy(builtin_pipelines_dir() / "schemas" / "triage.schema.json", folder / "schemas")
    return write_pipeline(folder, pipeline_text, script)


def transcript_prompts(record: Path, step_id: str) -> list[str]:
    """The first user message of each conversation the agent started (one per attempt)."""
    exchanges = [json.loads(line) for line in (record / "steps" / step_id / "transcript.jsonl").read_text().splitlines()]
    firsts = [e["request"]["messages"] for e in exchanges if len(e["request"]["messages"]) == 1]
    return [messages[0]["content"] if isinstance(messages[0]["content"], str)
            else "".join(block.get("text", "") for block in messages[0]["content"]) for messages in firsts]


@pytest.fixture(scope="module")
def contract_run(tmp_path_factory, agent_image, docker):
    base = tmp_path_factory.mktemp("contracts")
    repo = one_commit_repository(base / "service")
    pipeline, script = write_files(base, CONTRACT_PIPELINE, SCRIPT)
    completed = run_cli("run", str(pipeline), "500s on /api/orders", "--repo", str(repo), "--model",
                        f"scripted:{script}", "--output", str(base / "out"), "--json", cwd=base)
    events = {(e["state"], e["step_id"]): e for e in map(json.loads, completed.stdout.splitlines())}
    record = repo / ".wave" / "runs" / events[("run_started", None)]["run_id"]
    return {"completed": completed, "events": events, "record": record, "out": base / "out"}


def test_a_fixed_artifact_passes_on_the_retry(contract_run):
    events = contract_run["events"]
    assert events[("completed", "triage")]["message"] == "Triage fixed"
    triage = json.loads((contract_run["out"] / "triage.json").read_text())
    assert triage["severity"] == "P1" and triage["severity_rationale"] == "every order request fails"


def test_the_retry_gets_the_exact_errors_in_the_same_container(contract_run):
    record = contract_run["record"]
    first, retry = transcript_prompts(record, "triage")
    assert "must validate against this JSON Schema" in first and "Your previous attempt" not in first
    assert retry.startswith(first.rstrip())
    assert "## Your previous attempt did not pass these checks" in retry
    assert '- output/triage.json (json_schema): $.severity: "P0" is not one of "P1", "P2", "P3", "P4"' in retry
    assert "- output/triage.json (json_schema): $.severity_rationale: required property is missing" in retry
    run = json.loads((record / "run.json").read_text())
    assert any("$.severity:" in error for error in run["steps"]["triage"]["retry_errors"])
    assert "first-attempt" in (record / "steps" / "triage" / "agent.log").read_text()  # the marker survived
    assert json.loads((record / "steps" / "triage" / "step.attempt-1.json").read_text())["prompt"] == first


def test_a_second_failure_fails_the_step_with_the_errors_and_skips_dependents(contract_run):
    completed, events = contract_run["completed"], contract_run["events"]
    assert completed.returncode == 1, completed.stderr
    message = events[("failed", "report")]["message"]
    assert "output/report.md (markdown_sections): line 8 blames a person (\u201cdeveloper forgot\u201d)" in message
    assert "comes after" not in message  # the retry fixed the order, not the blame
    assert message.endswith("(after one retry with the errors)")
    assert ("skipped", "after-report") in events
    assert events[("run_failed", None)]["message"].startswith("step report failed: ")
    _, retry = transcript_prompts(contract_run["record"], "report")
    assert "line 6 (14:15) comes after line 5 (14:30)" in retry and "blames a person" in retry


def test_an_artifact_that_breaks_its_contract_stays_in_the_record_not_in_output(contract_run):
    assert not (contract_run["out"] / "report.md").exists()
    kept = contract_run["record"] / "steps" / "report" / "artifacts" / "report.md"
    assert "The developer forgot the index." in kept.read_text()


def test_the_contract_run_leaves_no_docker_objects(contract_run, docker):
    assert_run_left_nothing(docker, contract_run["record"].name)


SEED_SHAPED_TRIAGE = {k: v for k, v in BAD_TRIAGE.items()} | {"severity": "P1"}  # no severity_rationale


def test_the_seed_copy_runs_without_contracts_where_the_built_in_checks_them(tmp_path, repo, agent_image, docker):
    script = {"steps": {"triage": [[write("output/triage.json", json.dumps(SEED_SHAPED_TRIAGE))], say("Triage complete")]}}
    script_file = tmp_path / "script.yaml"
    script_file.write_text(yaml.safe_dump(script, sort_keys=False))
    seed = tmp_path / "seed.yaml"
    seed.write_bytes(SEED_YAML_COPY.read_bytes())
    common = ("--repo", str(repo), "--model", f"scripted:{script_file}", "--steps", "triage", "--json")
    plain = run_cli("run", str(seed), "500 errors", *common, "--output", str(tmp_path / "seed-out"), cwd=tmp_path)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert json.loads((tmp_path / "seed-out" / "triage.json").read_text()) == SEED_SHAPED_TRIAGE
    checked = run_cli("run", "incident-response", "500 errors", *common, "--output", str(tmp_path / "out"), cwd=tmp_path)
    assert checked.returncode == 1
    failed = next(json.loads(line) for line in checked.stdout.splitlines() if '"failed"' in line)
    assert "$.severity_rationale: required property is missing" in failed["message"]
    assert_run_left_nothing(docker, *run_ids_in(repo))
