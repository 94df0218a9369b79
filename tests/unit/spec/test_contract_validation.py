"""handover.contract/contracts: honoured for json_schema, non_empty_file and markdown_sections, and
checked by `validate` before anything runs (source, schema file, section rules)."""

import json

import pytest

from wave_sandbox.resources import builtin_pipelines_dir
from wave_sandbox.spec.loader import load_pipeline
from wave_sandbox.settings import combine_policies

from .helpers import line_of, problems_in, variant, write_pipeline

CEILINGS = combine_policies([])  # the built-in ceilings, as with no policy file

AFTER_TRIAGE_ARTIFACT = "        type: json\n"


def with_triage_handover(handover_text: str) -> str:
    return variant(AFTER_TRIAGE_ARTIFACT, AFTER_TRIAGE_ARTIFACT + handover_text)


JSON_CONTRACT = """\
    handover:
      contract:
        type: json_schema
        source: output/triage.json
        schema_path: schemas/triage.schema.json
"""


def put_schema(folder, schema=None, name="schemas/triage.schema.json"):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schema or {"type": "object", "required": ["severity"]}))
    return path


def test_a_json_schema_contract_with_its_schema_beside_the_pipeline_loads(repo):
    put_schema(repo)
    loaded = load_pipeline(write_pipeline(repo, with_triage_handover(JSON_CONTRACT)), repo, CEILINGS)
    [contract] = loaded.pipeline.steps[0].handover.effective_contracts()
    assert (contract.type, contract.source, contract.schema_path) == ("json_schema", "output/triage.json",
                                                                      "schemas/triage.schema.json")
    assert contract.must_pass is None and contract.on_failure is None  # Wave's defaults: must pass, retry


def test_the_schema_is_also_found_in_the_repository_as_wave_keeps_it(repo):
    put_schema(repo, name=".wave/contracts/triage.schema.json")
    pipelines = repo / ".wave" / "pipelines"
    pipelines.mkdir(parents=True)
    text = with_triage_handover(JSON_CONTRACT.replace("schemas/triage.schema.json", ".wave/contracts/triage.schema.json"))
    assert load_pipeline(write_pipeline(pipelines, text), repo, CEILINGS).pipeline.steps[0].handover is not None


def test_a_missing_schema_file_is_reported_at_schema_path(repo):
    text = with_triage_handover(JSON_CONTRACT)
    line = line_of(text, "schema_path:")
    assert problems_in(repo, text) == [
        f"p.yaml:{line}: steps[0] (triage): handover.contract: schema_path 'schemas/triage.schema.json': no such "
        f"file beside the pipeline ({repo}) or in the repository"
    ]


@pytest.mark.parametrize("content, fragment", [
    ("{not json", "schema_path 'schemas/triage.schema.json' is not valid JSON"),
    ('{"type": "object", "if": {}}', "schema_path 'schemas/triage.schema.json': #: keyword 'if' is not supported"),
])
def test_a_schema_that_cannot_be_used_is_reported(repo, content, fragment):
    (repo / "schemas").mkdir()
    (repo / "schemas" / "triage.schema.json").write_text(content)
    problems = problems_in(repo, with_triage_handover(JSON_CONTRACT))
    assert len(problems) == 1 and fragment in problems[0], problems


def test_a_schema_path_may_not_leave_its_folder(repo):
    outside = repo.parent / "outside.schema.json"
    outside.write_text("{}")
    problems = problems_in(repo, with_triage_handover(JSON_CONTRACT.replace("schemas/triage.schema.json", "../outside.schema.json")))
    assert len(problems) == 1 and "no such file beside the pipeline" in problems[0]


@pytest.mark.parametrize("contract_text, expected", [
    ("{type: test_suite}", "handover.contract: test_suite needs 'command'"),
    ("{type: llm_judge, criteria: []}", "handover.contract: llm_judge needs 'criteria'"),
    ("{type: event_contains, events: [{contains: x}]}", "handover.contract: event_contains needs 'events'"),
    ("{type: source_diff}", "handover.contract: source_diff checks what the step changed: give the step a readwrite mount"),
    ("{type: event_contains, events: [{state: x}], test_func_pattern: '(a+)+$'}",
     "handover.contract: test_func_pattern repeats a group"),
    ("{type: non_empty_file, on_failure: rework, rework_step: ghost}",
     "handover.contract.rework_step: rework step 'ghost' is not a step of this pipeline"),
    ("{type: non_empty_file, source: output/other.json}",
     "handover.contract: source 'output/other.json' is not an artifact path of this step (its output_artifacts: "
     "output/triage.json)"),
    ("{type: json_schema, source: output/triage.json}",
     "handover.contract: json_schema needs schema_path"),
    ("{type: non_empty_file, source: ./output/triage.json, schema_path: s.json}",
     "handover.contract: schema_path is only used by json_schema, not non_empty_file"),
    ("{type: non_empty_file, source: output/triage.json, blameless: true}",
     "handover.contract: 'blameless' is only used by markdown_sections, not non_empty_file"),
    ("{type: markdown_sections, source: output/triage.json}",
     "handover.contract: markdown_sections needs sections (or blameless: true) to check anything"),
    ("{type: markdown_sections, source: output/triage.json, sections: [{heading: impact, check: vibes}]}",
     "handover.contract.sections[0]: unknown check 'vibes' (known: timeline, action_items, five_whys, hypotheses)"),
    ("{type: markdown_sections, source: output/triage.json, sections: [{heading: ['']}]}",
     "handover.contract.sections[0]: heading needs at least one non-empty keyword"),
    ("{source: output/triage.json}",
     "handover.contract: missing required field 'type' (json_schema, non_empty_file, markdown_sections, test_suite"),
])
def test_contract_problems_are_reported_with_their_place(repo, contract_text, expected):
    (repo / "s.json").write_text("{}")
    problems = problems_in(repo, with_triage_handover(f"    handover:\n      contract: {contract_text}\n"))
    assert len(problems) == 1 and expected in problems[0], problems


def test_contract_and_contracts_together_are_an_error(repo):
    text = with_triage_handover(
        "    handover:\n      contract: {type: non_empty_file, source: output/triage.json}\n"
        "      contracts: [{type: non_empty_file, source: output/triage.json}]\n"
    )
    assert problems_in(repo, text) == [
        f"p.yaml:{line_of(text, 'contract: {')}: steps[0] (triage): handover: give handover.contract or "
        "handover.contracts, not both (Wave would ignore contract)"
    ]


def test_contracts_list_items_are_each_checked(repo):
    text = with_triage_handover(
        "    handover:\n      contracts:\n        - {type: non_empty_file, source: output/triage.json}\n"
        "        - {type: non_empty_file, source: output/nope.md}\n"
    )
    problems = problems_in(repo, text)
    assert len(problems) == 1 and "handover.contracts[1]: source 'output/nope.md'" in problems[0]


def test_unknown_contract_keys_are_errors(repo):
    problems = problems_in(repo, with_triage_handover(
        "    handover:\n      contract: {type: non_empty_file, source: output/triage.json, strictness: high}\n"))
    assert len(problems) == 1 and "strictness" in problems[0], problems


def test_the_built_in_incident_response_carries_a_contract_on_every_step(repo):
    loaded = load_pipeline(builtin_pipelines_dir() / "incident-response.yaml", repo, CEILINGS)
    kinds = {step.id: [c.type for c in step.handover.effective_contracts()] for step in loaded.pipeline.steps}
    assert kinds == {"triage": ["json_schema"], "investigate": ["markdown_sections"],
                     "root-cause": ["markdown_sections"], "remediate": ["non_empty_file"],
                     "postmortem": ["markdown_sections"]}
    postmortem = loaded.pipeline.step("postmortem").handover.contract
    assert postmortem.blameless and [s.check for s in postmortem.sections if s.check] == ["timeline", "action_items"]


def test_a_contract_without_source_checks_the_first_artifact_and_validates(repo):
    (repo / "s.json").write_text("{}")
    assert problems_in(repo, with_triage_handover("    handover:\n      contract: {type: json_schema, schema_path: s.json}\n")) == []
