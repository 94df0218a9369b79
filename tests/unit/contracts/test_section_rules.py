"""The incident rules: timeline in UTC and in order, action items with owners and due dates, five
answered whys, hypotheses with likelihood, evidence for and against, and a test."""

import pytest

from .helpers import errors_of, fixture, section, sections_contract

PREFIX = "output/report.md (markdown_sections): "


def rule_errors(check: str, heading: str, body: str) -> list[str]:
    keyword = heading.lower().split()[0]
    errors = errors_of(sections_contract(section(keyword, check=check)), f"# Report\n\n## {heading}\n\n{body}")
    return [error.removeprefix(PREFIX) for error in errors]


# ----- timeline -----------------------------------------------------------------------------------
def timeline(*rows: str, header: str = "Time (UTC)") -> str:
    return f"| {header} | Event |\n|---|---|\n" + "".join(f"| {row} |\n" for row in rows)


def test_a_timeline_in_order_and_in_utc_passes():
    assert rule_errors("timeline", "Timeline", timeline("14:15 | deploy", "14:30-14:44 | errors", "then | fix")) == []


def test_a_timeline_out_of_order_names_both_lines():
    errors = rule_errors("timeline", "Timeline", timeline("14:15 | deploy", "15:00 | fix", "14:45 | triage"))
    assert errors == ["section 'Timeline' (line 3): line 9 (14:45) comes after line 8 (15:00); list the events in time order"]


def test_a_timeline_must_say_utc():
    errors = rule_errors("timeline", "Timeline", timeline("14:15 | deploy", "14:30 | alert", header="Time"))
    assert len(errors) == 1 and "does not say its times are UTC" in errors[0]
    assert rule_errors("timeline", "Timeline (UTC)", timeline("14:15 | a", "14:30 | b", header="Time")) == []
    assert rule_errors("timeline", "Timeline", "- 2026-02-04T14:15:00Z deploy\n- 2026-02-04T14:30:00Z alert\n") == []


@pytest.mark.parametrize("row, zone", [("14:40 PDT | paged", "PDT"), ("2026-02-04T14:40:00-07:00 | paged", "-07:00")])
def test_times_in_another_zone_are_refused(row, zone):
    errors = rule_errors("timeline", "Timeline", timeline("14:15 | deploy", row))
    assert any(f"gives a time in {zone}" in error for error in errors), errors


def test_midnight_and_dates_keep_the_order():
    assert rule_errors("timeline", "Timeline", timeline("23:50 | deploy", "00:10 | alert")) == []
    dated = timeline("2026-02-04 23:50 | deploy", "2026-02-05 00:10 | alert", "2026-02-04 23:55 | late note")
    assert "comes after" in rule_errors("timeline", "Timeline", dated)[0]


def test_a_timeline_needs_two_timed_events():
    assert "needs at least two entries with a time" in rule_errors("timeline", "Timeline", "It broke at 14:30 UTC.\n")[0]


# ----- action items -------------------------------------------------------------------------------
def test_action_items_need_owner_and_due_date_columns():
    body = "| ID | Action | Status |\n|---|---|---|\n| 1 | Add alerts | Open |\n"
    assert rule_errors("action_items", "Action Items", body) == [
        "section 'Action Items' (line 3): the action items table needs an Owner and a Due date column "
        "(it has: ID, Action, Status)"
    ]


def test_each_action_needs_an_owner_and_a_date():
    body = ("| Action | Owner | Due |\n|---|---|---|\n| Add alerts | @sre-team | 2026-02-07 |\n"
            "| Add index | TBD | 2026-02-08 |\n| Load tests | QA | next sprint |\n")
    assert rule_errors("action_items", "Action Items", body) == [
        "section 'Action Items' (line 3): line 8: action 'Add index' has no owner",
        "section 'Action Items' (line 3): line 9: action 'Load tests' has no due date (write one, e.g. 2026-02-11)",
    ]


def test_action_items_as_a_list():
    body = ("- Add pool alerts (owner: SRE team, due 2026-02-07)\n- @dba-team reviews indexes by Feb 14\n"
            "- Add a load test\n")
    errors = rule_errors("action_items", "Action items", body)
    assert errors == [
        "section 'Action items' (line 3): line 7: action 'Add a load test' has no owner "
        "(write 'Owner: <team or role>' or an @handle)",
        "section 'Action items' (line 3): line 7: action 'Add a load test' has no due date "
        "(write one, e.g. 'Due: 2026-02-11')",
    ]


# ----- five whys ----------------------------------------------------------------------------------
WHYS = "".join(f"{n}. **Why did step {n} happen?**\n   Because of step {n + 1}.\n\n" for n in range(1, 6))


def test_five_answered_whys_pass_in_lists_and_tables():
    assert rule_errors("five_whys", "5 Whys", WHYS) == []
    table = "| # | Question | Answer |\n|---|---|---|\n" + "".join(
        f"| {n} | Why {n}? | Because {n + 1} |\n" for n in range(1, 6))
    assert rule_errors("five_whys", "Five whys", table) == []


def test_fewer_than_five_whys_fail():
    four = WHYS.split("5. ")[0]
    assert rule_errors("five_whys", "5 Whys", four) == [
        "section '5 Whys' (line 3): has 4 'why' question(s); the five whys need at least 5, "
        "each answered before the next asks why that happened"
    ]


def test_an_unanswered_why_is_named():
    text = WHYS.replace("   Because of step 3.\n", "")
    assert rule_errors("five_whys", "5 Whys", text) == ["section '5 Whys' (line 3): why #2 (line 8) has no answer"]


def test_a_sentence_with_why_in_it_is_not_a_question():
    text = WHYS.split("5. ")[0] + "This explains why the pool ran dry.\n"
    assert "has 4 'why' question(s)" in rule_errors("five_whys", "5 Whys", text)[0]


# ----- hypotheses ---------------------------------------------------------------------------------
HYPOTHESIS = "### {title}\n- Likelihood: {likelihood}\n- **For**: the deploy\n- **Against**: none\n- **Test**: revert it\n\n"


def test_hypotheses_with_every_part_pass():
    body = HYPOTHESIS.format(title="1. Pool exhaustion", likelihood="HIGH") + \
        "### 2. Backup lock — LOW\n- Evidence supporting: lock errors\n- Evidence against: ended early\n" \
        "- Tests to confirm or rule out: check the 15:05 backup\n"
    assert rule_errors("hypotheses", "Hypotheses", body) == []


def test_a_hypothesis_missing_parts_is_named_with_what_it_lacks():
    body = HYPOTHESIS.format(title="1. Pool exhaustion", likelihood="HIGH") + \
        "### 2. Dependency change\n- For: none found\n- Against: requirements.txt unchanged, tests/test_x.py too\n"
    assert rule_errors("hypotheses", "Potential causes", body) == [
        "section 'Potential causes' (line 3): hypothesis '2. Dependency change' (line 11) lacks a likelihood "
        "(a line starting 'Likelihood: HIGH', 'MEDIUM' or 'LOW')",
        "section 'Potential causes' (line 3): hypothesis '2. Dependency change' (line 11) lacks a test to confirm "
        "or rule it out (a line starting 'Tests:')",
    ]


def test_hypotheses_as_a_table():
    body = ("| Hypothesis | Likelihood | Evidence for | Evidence against | Test |\n|---|---|---|---|---|\n"
            "| Pool | HIGH | timing | none | revert |\n| Lock | LOW | errors | - | |\n")
    assert rule_errors("hypotheses", "Hypotheses", body) == [
        "section 'Hypotheses' (line 3): line 8: hypothesis 'Lock' lacks evidence against it",
        "section 'Hypotheses' (line 3): line 8: hypothesis 'Lock' lacks a test to confirm or rule it out",
    ]


def test_the_seed_report_sections_satisfy_their_rules():
    report = fixture("seed-incident-report.md")
    contract = sections_contract(section("5 whys", check="five_whys"), section("timeline", check="timeline"),
                                 section("action item", check="action_items"))
    assert errors_of(contract, report) == []
