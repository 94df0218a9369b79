"""`validate` accepts Wave's format and markdown_spec contracts and checks their fields before anything runs."""

from wave_sandbox.settings import combine_policies
from wave_sandbox.spec.loader import load_pipeline

from .helpers import problems_in, write_pipeline
from .test_contract_validation import put_schema, with_triage_handover

CEILINGS = combine_policies([])


def test_a_format_contract_loads_and_its_schema_name_needs_no_file(repo):
    text = with_triage_handover("    handover:\n      contract: {type: format, schema_path: github-issue-analysis.schema.json}\n")
    [contract] = load_pipeline(write_pipeline(repo, text), repo, CEILINGS).pipeline.steps[0].handover.effective_contracts()
    assert (contract.type, contract.schema_path) == ("format", "github-issue-analysis.schema.json")


def test_a_markdown_spec_contract_loads_without_a_schema_and_with_one_beside_the_pipeline(repo):
    assert problems_in(repo, with_triage_handover("    handover:\n      contract: {type: markdown_spec}\n")) == []
    put_schema(repo, {"type": "object", "required": ["user_stories"]}, "schemas/spec.schema.json")
    text = with_triage_handover("    handover:\n      contract: {type: markdown_spec, schema_path: schemas/spec.schema.json}\n")
    assert problems_in(repo, text) == []


def test_a_markdown_spec_schema_that_is_missing_is_reported(repo):
    text = with_triage_handover("    handover:\n      contract: {type: markdown_spec, schema_path: schemas/none.json}\n")
    [problem] = problems_in(repo, text)
    assert "handover.contract: schema_path 'schemas/none.json': no such" in problem


def test_their_source_must_be_an_artifact_of_the_step(repo):
    text = with_triage_handover("    handover:\n      contracts: [{type: format, source: out/x.json}, "
                                "{type: markdown_spec, source: out/spec.md}]\n")
    problems = problems_in(repo, text)
    assert len(problems) == 2 and all("is not an artifact path of this step" in p for p in problems)
    assert "handover.contracts[0]" in problems[0] and "handover.contracts[1]" in problems[1]


def test_format_settings_of_other_types_are_refused(repo):
    text = with_triage_handover("    handover:\n      contract: {type: format, sections: [{heading: [x]}]}\n")
    [problem] = problems_in(repo, text)
    assert "'sections' is only used by markdown_sections, not format" in problem

