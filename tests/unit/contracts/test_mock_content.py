"""Stub artifacts of `--model mock` pass the contracts they are written for (issue 11, item 9)."""

from __future__ import annotations

import glob
import json
from pathlib import Path

import pytest

from wave_sandbox.contracts import check_contract
from wave_sandbox.contracts.json_schema import validation_errors
from wave_sandbox.contracts.mock_content import mock_artifact_text, minimal_instance
from wave_sandbox.contracts.model import ContractCheck, SectionRequirement
from wave_sandbox.contracts.pattern_sample import sample_matching
from wave_sandbox.resources import builtin_pipelines_dir

WAVE_SCHEMAS = sorted(glob.glob("/tmp/wave/.agents/contracts/*.schema.json"))


@pytest.mark.parametrize("pattern", [r"^[^/]+/[^/]+$", r"^DVG-\d{3}$", r"^T[0-9]{2}$", r"^.*spec\.md$",
                                     r"^(feat|fix)\([a-z]+\): .{3,}$", r"^[A-Z][a-z]+ \w+$", r"^v\d+\.\d+\.\d+$"])
def test_a_pattern_sample_matches_its_pattern(pattern):
    sample = sample_matching(pattern)
    assert sample is not None and json.dumps(sample)


def test_minimal_instances_honour_refs_allof_oneof_min_items_and_min_properties():
    schema = {
        "$defs": {"item": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string", "minLength": 4}}}},
        "type": "object", "required": ["items", "kind", "meta", "either", "count"],
        "properties": {
            "items": {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/item"}},
            "kind": {"const": "report"},
            "meta": {"allOf": [{"type": "object", "required": ["a"], "properties": {"a": {"type": "boolean"}}},
                               {"required": ["b"], "properties": {"b": {"type": ["null", "number"], "exclusiveMinimum": 5}}}]},
            "either": {"oneOf": [{"type": "integer", "minimum": 3}, {"type": "string"}]},
            "count": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "integer"}},
        },
        "additionalProperties": False,
    }
    instance = minimal_instance(schema)
    assert validation_errors(instance, schema) == []
    assert len(instance["items"]) == 2 and instance["kind"] == "report"


def test_the_built_in_triage_schema_gets_a_valid_instance():
    schema = json.loads((builtin_pipelines_dir() / "schemas" / "triage.schema.json").read_text())
    assert validation_errors(minimal_instance(schema), schema) == []


@pytest.mark.skipif(not WAVE_SCHEMAS, reason="no Wave checkout at /tmp/wave")
def test_every_schema_of_wave_gets_a_valid_instance():
    failing = [path for path in WAVE_SCHEMAS
               if validation_errors(minimal_instance(json.loads(Path(path).read_text())), json.loads(Path(path).read_text()))]
    assert failing == []


def test_markdown_stub_has_the_sections_mentions_and_named_checks():
    sections = (SectionRequirement(("summary",), (("orders", "order"),)), SectionRequirement(("timeline",), (), "timeline"),
                SectionRequirement(("action",), (), "action_items"), SectionRequirement(("whys", "why"), (), "five_whys"),
                SectionRequirement(("hypotheses",), (), "hypotheses"))
    contract = ContractCheck(type="markdown_sections", source="out/r.md", sections=sections, blameless=True)
    text = mock_artifact_text("report", "out/r.md", "markdown", [contract])
    assert check_contract(contract, text.encode()) == []


def test_other_artifacts_are_non_empty_and_json_is_json():
    assert json.loads(mock_artifact_text("s", "out/a.json", "json", [])) == {}
    text = mock_artifact_text("s", "out/a.txt", None, [ContractCheck(type="non_empty_file", source="out/a.txt")])
    assert text.strip() and "mock" in text


def test_a_hostile_schema_cannot_make_the_host_build_a_huge_stub():
    schema = {"type": "object", "required": ["a", "s", "p"], "properties": {
        "a": {"type": "array", "minItems": 10**9, "items": {"type": "integer"}},
        "s": {"type": "string", "minLength": 10**9},
        "p": {"type": "string", "pattern": "^((((((a{20}){20}){20}){20}){20}){20})$"}}}
    instance = minimal_instance(schema)
    assert len(instance["a"]) <= 200 and len(instance["s"]) <= 20_000 and len(instance["p"]) < 20
