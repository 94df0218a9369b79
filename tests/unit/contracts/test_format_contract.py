"""Wave's `format` contract: the rule set picked by the schema name, each rule with Wave's wording."""

from __future__ import annotations

import json

import pytest

from wave_sandbox.contracts import check_contract
from wave_sandbox.contracts.format_rules import format_kind, format_problems
from wave_sandbox.contracts.model import ContractCheck

GOOD_ISSUE = {"title": "Parser drops trailing comma", "labels": ["bug"],
              "body": "## Description\nThe parser drops a trailing comma.\n\n## Acceptance Criteria\n- kept\n"}
GOOD_PR = {"title": "fix(parser): keep trailing comma", "head": "fix-comma", "base": "main",
           "body": "## Summary\nKeeps the trailing comma the tokenizer used to drop.\n## Changes\nparser.py\n## Testing\n- [x] unit tests\n\nRelated to #12\n"}


@pytest.mark.parametrize(("schema_path", "kind"), [
    ("", "generic"), (".wave/contracts/github-issue-analysis.schema.json", "github_issue"),
    ("github-pr-draft.schema.json", "github_pr"), ("findings.schema.json", "analysis"),
    ("implementation-results.schema.json", "implementation_results"), ("my-issue.schema.json", "github_issue"),
    ("pr-summary.schema.json", "github_pr"), ("plan.schema.json", "generic"),
])
def test_the_schema_file_name_picks_the_rules_as_wave_infers_them(schema_path, kind):
    assert format_kind(schema_path) == kind


def test_a_good_issue_and_a_good_pr_pass():
    assert format_problems(json.dumps(GOOD_ISSUE), "github-issue-analysis.schema.json") == []
    assert format_problems(json.dumps(GOOD_PR), "github-pr-draft.schema.json") == []


def test_an_issue_breaking_every_rule_gets_every_violation():
    issue = {"title": "[TODO] x", "body": "TBD", "labels": []}
    problems = format_problems(json.dumps(issue), "github-issue-analysis.schema.json")
    assert problems == [f"GitHub issue format validation failed: {p}" for p in (
        "issue title too short (minimum 10 characters)", "issue title contains placeholder text",
        "issue body too short (minimum 50 characters)", "issue body missing 'Description' section",
        "issue body missing 'Acceptance Criteria' section", "issue body contains placeholder: TBD",
        "no labels specified (at least one recommended)")]


def test_a_pr_with_closing_keywords_from_main_is_refused():
    pr = dict(GOOD_PR, head="main", body=GOOD_PR["body"].replace("Related to", "Closes"))
    problems = format_problems(json.dumps(pr), "github-pr-info.schema.json")
    assert any("closing keywords" in p for p in problems)
    assert any("cannot create PR from main/master branch" in p for p in problems)
    assert not any("should reference related issues" in p for p in problems)


def test_implementation_results_and_analysis_rules():
    bad = {"files_changed": [], "tests_passed": False, "implementation_notes": "short"}
    assert [p.split(": ", 1)[1] for p in format_problems(json.dumps(bad), "implementation-results.schema.json")] == [
        "no files changed - implementation appears empty", "tests are failing - implementation must pass all tests",
        "implementation_notes too brief (minimum 20 characters)"]
    assert format_problems('{"findings": [], "summary": "too short"}', "analysis.schema.json") == [
        "analysis format validation failed: summary field too brief (minimum 50 characters)",
        "analysis format validation failed: findings array is empty"]
    assert "missing analysis content" in format_problems('{"other": 1}', "analysis.schema.json")[0]


def test_generic_rules_catch_placeholders_and_empty_objects_and_non_objects():
    assert format_problems('{"plan": "FIXME later"}', "") == [
        "generic format validation failed: field 'plan' contains placeholder text: FIXME"]
    assert format_problems("{}", "") == ["generic format validation failed: output object is empty"]
    assert format_problems("[1]", "")[0].startswith("output is not valid JSON")
    assert format_problems("# not json", "")[0].startswith("output is not valid JSON")


def test_check_contract_labels_format_errors_with_the_artifact():
    contract = ContractCheck(type="format", source="output/plan.json")
    assert check_contract(contract, b'{"plan": "TODO"}') == [
        "output/plan.json (format): generic format validation failed: field 'plan' contains placeholder text: TODO"]
    assert check_contract(contract, b'{"plan": "ready"}') == []
