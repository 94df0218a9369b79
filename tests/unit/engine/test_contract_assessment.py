"""How a step's collected files are judged against its declared artifacts and contracts, and the
prompts that tell the agent about its contracts (first) and its errors (on the one retry)."""

from wave_sandbox.contracts import ContractCheck
from wave_sandbox.engine.artifacts import DeclaredArtifact
from wave_sandbox.engine.step_execution import StepJob, assess_artifacts
from wave_sandbox.engine.step_prompt import build_retry_prompt, build_user_prompt
from wave_sandbox.sandbox.contract import CollectedFile

SCHEMA = {"type": "object", "required": ["severity"], "properties": {"severity": {"enum": ["P1", "P2"]}}}
TRIAGE = DeclaredArtifact("triage", "output/triage.json", "json")
REPORT = DeclaredArtifact("report", "output/report.md", "markdown")


def job(*contracts: ContractCheck) -> StepJob:
    return StepJob("triage", "navigator", {}, 60, [], [], [], [TRIAGE, REPORT], {}, contracts=list(contracts))


def collected(triage: bytes | None, report: bytes | None = b"# Report\n") -> list[CollectedFile]:
    def item(path, content):
        if content is None:
            return CollectedFile(path, None, "no such file", missing=True)
        return CollectedFile(path, content, None)
    return [item(TRIAGE.path, triage), item(REPORT.path, report)]


def test_a_missing_artifact_is_reported_once_and_its_contract_skipped():
    assessment = assess_artifacts(job(ContractCheck("json_schema", TRIAGE.path, schema=SCHEMA)), collected(None))
    assert assessment.problems == ["artifact 'triage' was not written to /workspace/output/triage.json"]
    assert list(assessment.contents) == [REPORT.path] and not assessment.halt


def test_invalid_json_is_reported_once_even_with_a_json_schema_contract():
    assessment = assess_artifacts(job(ContractCheck("json_schema", TRIAGE.path, schema=SCHEMA)), collected(b"{no"))
    assert len(assessment.problems) == 1 and "is not valid JSON" in assessment.problems[0]


def test_a_broken_contract_fails_and_marks_its_artifact():
    assessment = assess_artifacts(job(ContractCheck("json_schema", TRIAGE.path, schema=SCHEMA)), collected(b"{}"))
    assert assessment.problems == ["output/triage.json (json_schema): $.severity: required property is missing"]
    assert assessment.contract_failures == {TRIAGE.path} and TRIAGE.path in assessment.contents


def test_an_advisory_contract_only_warns_and_halt_asks_for_no_retry():
    advisory = ContractCheck("non_empty_file", REPORT.path, must_pass=False)
    halting = ContractCheck("json_schema", TRIAGE.path, schema=SCHEMA, on_failure="halt")
    assessment = assess_artifacts(job(advisory, halting), collected(b'{"severity": "P9"}', report=b" "))
    assert assessment.warnings == ["advisory contract not met: output/report.md (non_empty_file): the file is empty"]
    assert len(assessment.problems) == 1 and assessment.halt


def test_good_files_pass():
    contracts = (ContractCheck("json_schema", TRIAGE.path, schema=SCHEMA), ContractCheck("non_empty_file", REPORT.path))
    assessment = assess_artifacts(job(*contracts), collected(b'{"severity": "P1"}'))
    assert assessment.problems == [] and assessment.warnings == [] and len(assessment.contents) == 2


def test_the_prompt_shows_each_contract_and_the_retry_prompt_adds_the_errors():
    contracts = [ContractCheck("json_schema", TRIAGE.path, schema=SCHEMA), ContractCheck("non_empty_file", REPORT.path)]
    prompt = build_user_prompt("Triage it", [], [TRIAGE, REPORT], [], contracts)
    assert "## Checks those files must pass when you finish" in prompt
    assert '- /workspace/output/triage.json must validate against this JSON Schema:\n\n```json\n{\n  "type": "object"' in prompt
    assert "- /workspace/output/report.md must not be empty." in prompt
    assert "## Checks" not in build_user_prompt("Triage it", [], [TRIAGE], [])
    retry = build_retry_prompt(prompt, ["output/triage.json (json_schema): $.severity: required property is missing"])
    assert retry.startswith(prompt.rstrip() + "\n\n## Your previous attempt did not pass these checks\n"
                            "- output/triage.json (json_schema): $.severity: required property is missing\n")
    assert "still in /workspace" in retry and "last attempt" in retry
