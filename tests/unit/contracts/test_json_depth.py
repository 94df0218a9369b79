"""Deeply nested JSON fails its contract cleanly; schemas whose $ref loops are refused when loaded."""

import json

import pytest

from wave_sandbox.contracts import ContractCheck, check_contract, schema_problems
from wave_sandbox.contracts.json_depth import MAX_JSON_DEPTH, JsonTooDeepError, json_depth_exceeds, loads_bounded
from wave_sandbox.engine.artifacts import DeclaredArtifact, artifact_problem

from .helpers import TRIAGE_SCHEMA

DEEP = "[" * 10_000 + "]" * 10_000


def test_a_ten_thousand_deep_artifact_is_a_contract_error_not_a_recursion_error():
    contract = ContractCheck("json_schema", "output/triage.json", schema=TRIAGE_SCHEMA)
    assert check_contract(contract, DEEP.encode()) == [
        f"output/triage.json (json_schema): the JSON nests deeper than {MAX_JSON_DEPTH} levels, the most wave-sandbox reads"
    ]
    problem = artifact_problem(DeclaredArtifact("triage", "output/triage.json", "json"), DEEP.encode())
    assert problem.startswith("artifact 'triage' (output/triage.json) is not valid JSON: the JSON nests deeper")


def test_depth_is_counted_outside_strings_only():
    assert loads_bounded(json.dumps({"text": "[[[[{{{{" * 100})) == {"text": "[[[[{{{{" * 100}
    assert loads_bounded(json.dumps({"quote": 'a\\"[[[' * 50})) is not None
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert not json_depth_exceeds(at_limit) and json_depth_exceeds("[" + at_limit + "]")
    with pytest.raises(JsonTooDeepError):
        loads_bounded('{"a":' * 65 + "1" + "}" * 65)


@pytest.mark.parametrize("schema", [
    {"$ref": "#"},
    {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"anyOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"},
])
def test_a_schema_whose_ref_loops_without_checking_anything_is_refused(schema):
    assert any("leads back here without checking anything" in problem for problem in schema_problems(schema))


def test_a_recursive_schema_that_descends_is_fine():
    tree = {"$defs": {"node": {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}},
            "$ref": "#/$defs/node"}
    assert schema_problems(tree) == []
