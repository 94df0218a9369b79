"""markdown_sections: sections found by heading keywords, case-insensitively; the seed's report passes."""

import pytest

from wave_sandbox.contracts import ContractCheck, check_contract
from wave_sandbox.contracts.markdown import list_items, parse_document, tables

from .helpers import errors_of, fixture, section, sections_contract

POSTMORTEM = sections_contract(
    section("summary", "overview"), section("timeline", check="timeline"), section("impact"),
    section("root cause"), section("resolution", "recovery"), section("action item", check="action_items"),
    section("lessons learned"), blameless=True,
)


def test_the_seed_example_report_passes_the_postmortem_contract():
    report = fixture("seed-incident-report.md")
    assert "## Timeline" in report and "## Impact" in report and "## Resolution" in report
    assert errors_of(POSTMORTEM, report) == []


@pytest.mark.parametrize("heading", ["## Timeline", "## TIMELINE", "### timeline of events", "## **Timeline (UTC)**",
                                     "#### 1. Timeline", "## Incident timeline ##"])
def test_headings_match_by_keyword_at_any_level_and_case(heading):
    text = f"# Report\n\n{heading}\n\n| Time (UTC) | Event |\n|---|---|\n| 14:00 | a |\n| 14:05 | b |\n"
    assert errors_of(sections_contract(section("timeline", check="timeline")), text) == []


def test_a_keyword_matches_the_start_of_a_word_only():
    contract = sections_contract(section("impact"))
    assert errors_of(contract, "## Impacts\n\nmany\n") == []
    assert errors_of(contract, "## Nonimpact\n\nnone\n")[0].startswith(
        "output/report.md (markdown_sections): no section whose heading mentions 'impact'"
    )


def test_a_missing_section_lists_the_headings_that_are_there():
    errors = errors_of(POSTMORTEM, fixture("seed-incident-report.md").replace("## Impact", "## Consequences"))
    assert errors == [
        "output/report.md (markdown_sections): no section whose heading mentions 'impact' (headings found: "
        "'Executive Summary', 'Timeline', 'Consequences', 'Root Cause Analysis', '5 Whys', 'Contributing Factors', "
        "'Resolution', 'Immediate Fix', 'Deployed Fix', 'Action Items', 'Lessons Learned', 'What Went Well', "
        "'What Could Improve')"
    ]


def test_the_document_title_is_not_a_section():
    contract = sections_contract(section("root cause"))
    assert "no section whose heading mentions 'root cause'" in errors_of(contract, "# Root cause analysis\n\ntext\n")[0]
    assert errors_of(contract, "# Root cause analysis\n\n## Root cause\n\ntext\n") == []


def test_several_level_one_headings_are_all_sections():
    assert errors_of(sections_contract(section("summary"), section("impact")), "# Summary\n\nx\n\n# Impact\n\ny\n") == []


def test_an_empty_section_fails_and_a_filled_duplicate_wins():
    contract = sections_contract(section("impact"))
    assert errors_of(contract, "# R\n\n## Impact\n\n## Next\n\ntext\n") == [
        "output/report.md (markdown_sections): section 'Impact' (line 3) is empty"
    ]
    assert errors_of(contract, "# R\n\n## Impact\n\n## Impact details\n\n42 users\n") == []


def test_a_section_includes_its_subsections():
    assert errors_of(sections_contract(section("resolution")), "## Resolution\n\n### Immediate fix\n\ntimeout\n") == []


def test_headings_inside_fenced_code_do_not_count():
    text = "# R\n\n```markdown\n## Impact\n```\n"
    assert "no section whose heading mentions 'impact'" in errors_of(sections_contract(section("impact")), text)[0]


def test_required_mentions_are_searched_in_the_section():
    contract = sections_contract(section("resolution", mentions=(("rollback", "roll back"), ("verification",))))
    errors = errors_of(contract, "## Resolution\n\nWe rolled back at 15:00.\n")
    assert errors == [
        "output/report.md (markdown_sections): section 'Resolution' (line 1) does not mention 'rollback' or 'roll back'",
        "output/report.md (markdown_sections): section 'Resolution' (line 1) does not mention 'verification'",
    ]


@pytest.mark.parametrize("content, expected", [(b"", "the file is empty"), (b" \n\t\n", "the file is empty"),
                                               (b"\xff\xfe##", "the file is not UTF-8 text")])
def test_empty_or_binary_documents_fail(content, expected):
    assert expected in check_contract(sections_contract(section("x")), content)[0]


def test_non_empty_file():
    contract = ContractCheck("non_empty_file", "output/remediation.md")
    assert check_contract(contract, b"# Fix\n") == []
    assert check_contract(contract, b"") == ["output/remediation.md (non_empty_file): the file is empty"]
    assert check_contract(contract, b"\n  \n") == ["output/remediation.md (non_empty_file): the file is empty"]


def test_tables_and_list_items_are_read_with_their_line_numbers():
    document = parse_document("## A\n\n| x | y |\n|---|:-:|\n| 1 | a \\| b |\n\n- one\n  more\n- two\n  - nested\n")
    lines = document.sections[0].lines
    [table] = tables(lines)
    assert table.header == ["x", "y"] and table.rows == [(5, ["1", "a \\| b"])]
    assert list_items(lines) == [(7, "one\nmore"), (9, "two\n- nested")]
