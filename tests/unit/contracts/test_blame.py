"""The "no person blamed" heuristic: blaming sentences are found, systemic wording passes."""

import pytest

from wave_sandbox.contracts.blame import blame_problems

from .helpers import errors_of, fixture, sections_contract


@pytest.mark.parametrize("sentence, words", [
    ("The on-call engineer forgot to check the pool.", "on-call engineer forgot"),
    ("It was Alice's mistake.", "Alice's mistake"),
    ("The bug was introduced by Priya Shah in v2.45.0.", "introduced by Priya Shah"),
    ("The developer made a mistake when writing the query.", "developer made a mistake"),
    ("@bob should have known the table was large.", "@bob should have known"),
    ("The outage was blamed on the intern.", "blamed on the intern"),
    ("The root cause was human error.", "human error"),
    ("He was careless with the migration.", "He was careless"),
    ("The backend team ignored the alerts.", "backend team ignored"),
])
def test_blaming_sentences_are_found_and_quoted(sentence, words):
    problems = blame_problems(f"# Report\n\n## Summary\n\n{sentence}\n")
    assert len(problems) == 1 and problems[0].startswith(f"line 5 blames a person (\u201c{words}\u201d)"), problems


@pytest.mark.parametrize("sentence", [
    "The on-call engineer was paged at 14:35.",
    "No one is to blame: the deploy check did not touch the database.",
    "This was not human error; the system allowed an unbounded query.",
    "The engineer was not careless; nothing measured the query at production size.",
    "The team improved fault tolerance of the pool.",
    "The regression was introduced by Deployment v2.45.0.",
    "Blame the missing index, not a person.",
    "| 1 | Add pool alerts | @sre-team | 2026-02-07 | Open |",
    "The health check failed to detect the exhausted pool.",
])
def test_systemic_wording_passes(sentence):
    assert blame_problems(sentence) == []


def test_the_seed_example_report_is_blameless():
    assert blame_problems(fixture("seed-incident-report.md")) == []


def test_blameless_contract_reports_through_check_contract():
    errors = errors_of(sections_contract(blameless=True), "# R\n\nThe developer forgot the index.\n")
    assert errors == [
        "output/report.md (markdown_sections): line 3 blames a person (\u201cdeveloper forgot\u201d); a blameless "
        "report describes what in the system allowed the failure, not who made it"
    ]
