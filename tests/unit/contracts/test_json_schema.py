"""The small JSON Schema checker: the keywords it knows, errors with JSON paths, schemas it refuses."""

import json

import pytest

from wave_sandbox.contracts import ContractCheck, check_contract, schema_problems, validation_errors
from wave_sandbox.contracts.json_depth import MAX_JSON_DEPTH, loads_bounded

from .helpers import TRIAGE_SCHEMA

VALID_TRIAGE = {
    "symptom": "HTTP 500 on /api/orders; every error is a PoolTimeout",
    "severity": "P1",
    "severity_rationale": "Customer-facing: 41% of order requests fail, order creation included",
    "started_at": "2026-02-04T14:30:05Z",
    "blast_radius": {"service": "orders-service", "error_rate": "41%"},
    "recent_changes": [{"commit": "42c379b", "summary": "Add order history"}, {"commit": "a" * 40}],
    "mitigation_options": ["Turn off the My orders tab", {"action": "Roll back", "risk": "leaks orders"}],
}


def triage_errors(**changes) -> list[str]:
    document = {**VALID_TRIAGE, **changes}
    for name, value in changes.items():
        if value is None:
            del document[name]
    return validation_errors(document, TRIAGE_SCHEMA)


def test_the_shipped_triage_schema_is_usable_and_a_good_triage_passes():
    assert schema_problems(TRIAGE_SCHEMA) == []
    assert validation_errors(VALID_TRIAGE, TRIAGE_SCHEMA) == []


@pytest.mark.parametrize("severity", ["P0", "P5", "p1", "P1/P2", "high", 1])
def test_severity_is_exactly_one_of_p1_to_p4(severity):
    errors = triage_errors(severity=severity)
    assert len(errors) == 1 and errors[0].startswith("$.severity: ")
    assert "when unsure between two, choose the higher one" in errors[0]


def test_a_missing_rationale_is_named_with_its_description():
    errors = triage_errors(severity_rationale=None)
    assert errors == [
        "$.severity_rationale: required property is missing (Why this severity and not the next lower one: "
        "who or what is affected, how badly, for how long)"
    ]


@pytest.mark.parametrize("started_at", ["14:30 UTC", "2026-02-04T14:30:05", "2026-02-04T16:30:05+02:00",
                                        "2026-02-30T14:30:05Z", "2026-02-04 14:30"])
def test_started_at_is_an_iso_8601_utc_time(started_at):
    assert any(error.startswith("$.started_at: ") for error in triage_errors(started_at=started_at))


@pytest.mark.parametrize("started_at", ["2026-02-04T14:30:05Z", "2026-02-04T14:30:05.640Z", "2026-02-04T14:30:05+00:00"])
def test_utc_times_pass(started_at):
    assert triage_errors(started_at=started_at) == []


def test_recent_changes_need_commit_ids_and_errors_point_into_the_list():
    errors = triage_errors(recent_changes=[{"commit": "42c379b"}, {"summary": "the deploy"}, {"commit": "v2.45.0"}])
    assert errors[0].startswith("$.recent_changes[1].commit: required property is missing")
    assert errors[1].startswith('$.recent_changes[2].commit: "v2.45.0" does not match the pattern')
    assert len(errors) == 2


def test_wrong_types_and_empty_lists_are_reported_once_each():
    errors = triage_errors(blast_radius=[], mitigation_options=[], symptom="   ")
    assert [error.split(":")[0] for error in errors] == ["$.symptom", "$.blast_radius", "$.mitigation_options"]
    assert "expected object, got array" in errors[1]
    assert "has 0 item(s), needs at least 1" in errors[2]


SMALL = {
    "type": "object",
    "required": ["a"],
    "additionalProperties": False,
    "properties": {
        "a": {"$ref": "#/$defs/positive"},
        "odd key": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True, "maxItems": 2},
        "choice": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "either": {"anyOf": [{"const": "x"}, {"enum": [1, 2]}]},
        "when": {"type": "string", "format": "date"},
    },
    "$defs": {"positive": {"type": "integer", "exclusiveMinimum": 0}},
}


@pytest.mark.parametrize("document, expected", [
    ({"a": 3}, []),
    ({"a": 0}, ["$.a: 0 is not more than 0"]),
    ({"a": 1.5}, ["$.a: expected integer, got number"]),
    ({"a": True}, ["$.a: expected integer, got boolean"]),
    ({"a": 1, "b": 2}, ["$.b: property is not allowed here"]),
    ({"a": 1, "odd key": "yes"}, ['$["odd key"]: expected boolean, got string']),
    ({"a": 1, "tags": ["x", "x", "y"]}, ["$.tags: has 3 items, allows at most 2", "$.tags: holds the same item twice"]),
    ({"a": 1, "tags": ["x", 2]}, ["$.tags[1]: expected string, got integer"]),
    ({"a": 1, "choice": 1.5}, ["$.choice: 1.5 matches 0 of the shapes in oneOf, should match exactly one"]),
    ({"a": 1, "either": "y"}, ['$.either: "y" matches none of the 2 allowed shapes (anyOf)']),
    ({"a": 1, "when": "2026-02-04"}, []),
    ({"a": 1, "when": "04/02/2026"}, ['$.when: "04/02/2026" is not an ISO-8601 date such as 2026-02-04']),
    ([], ["$: expected object, got array"]),
])
def test_keywords_and_json_paths(document, expected):
    assert validation_errors(document, SMALL) == expected


@pytest.mark.parametrize("schema, fragment", [
    ({"type": "object", "if": {"type": "object"}}, "#: keyword 'if' is not supported"),
    ({"properties": {"a": {"patternProperties": {}}}}, "#/properties/a: keyword 'patternProperties'"),
    ({"type": "text"}, '#/type: unknown type "text"'),
    ({"pattern": "(unclosed"}, "#/pattern: not a valid regular expression"),
    ({"$ref": "#/$defs/missing"}, '#/$ref: "#/$defs/missing" does not point into this schema'),
    ({"$ref": "https://example.com/schema.json"}, "only '#/...' references"),
    ({"properties": {"a": 3}}, "#/properties/a: a schema should be an object or a boolean"),
    ({"required": "a"}, "#/required: should be a list of property names"),
])
def test_schemas_with_keywords_the_checker_does_not_know_are_refused(schema, fragment):
    problems = schema_problems(schema)
    assert len(problems) == 1 and fragment in problems[0], problems


def test_a_json_schema_contract_reports_invalid_json_and_prefixes_every_error():
    contract = ContractCheck("json_schema", "output/triage.json", schema=TRIAGE_SCHEMA)
    assert check_contract(contract, b"{not json")[0].startswith("output/triage.json (json_schema): not valid JSON: ")
    errors = check_contract(contract, json.dumps({**VALID_TRIAGE, "severity": "P0"}).encode())
    assert len(errors) == 1 and errors[0].startswith('output/triage.json (json_schema): $.severity: "P0" is not one of')
    assert check_contract(contract, json.dumps(VALID_TRIAGE).encode()) == []


def test_many_errors_are_capped():
    contract = ContractCheck("json_schema", "x.json", schema={"type": "array", "items": {"type": "string"}})
    errors = check_contract(contract, json.dumps(list(range(30))).encode())
    assert len(errors) == 21 and errors[-1] == "x.json (json_schema): ... and 10 more"


def test_a_schema_outside_the_allowlist_is_refused_at_check_time_too():
    schema = {"type": "object", "patternProperties": {"^x": {"type": "integer"}}}

    errors = validation_errors({"x1": "not checked by an unknown keyword"}, schema)

    assert errors == ["the contract's schema cannot be used: #: keyword 'patternProperties' is not supported "
                      "by wave-sandbox's schema checker"]  # fmt: skip


def test_a_keyword_with_a_value_of_the_wrong_kind_is_refused_by_the_meta_schema():
    problems = schema_problems({"properties": {"name": {"type": "string", "minLength": "3"}}})

    assert problems == ["#/properties/name/minLength: '3' is not of type 'integer' (the JSON Schema 2020-12 rules)"]


def test_errors_come_in_document_order_with_missing_members_before_present_ones():
    schema = {"type": "object", "required": ["z key", "a"], "properties": {
        "b": {"type": "string", "description": "the b"}, "c": {"enum": [1]}, "z key": {"description": "the z"}}}

    errors = validation_errors({"c": 2, "b": 3}, schema)

    assert errors == [
        '$["z key"]: required property is missing (the z)',
        "$.a: required property is missing",
        "$.c: 2 is not one of 1",
        "$.b: expected string, got integer (the b)",
    ]


def test_a_recursive_schema_checks_a_document_at_the_depth_limit():
    schema = {"type": "array", "items": {"$ref": "#"}}
    document = loads_bounded("[" * MAX_JSON_DEPTH + '"leaf"' + "]" * MAX_JSON_DEPTH)  # the deepest the contract reads

    [error] = validation_errors(document, schema)

    assert error.startswith("$" + "[0]" * MAX_JSON_DEPTH + ': expected array, got string')
