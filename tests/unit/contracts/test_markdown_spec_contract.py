"""Wave's `markdown_spec` contract: a Markdown spec parsed into Wave's SpecData, then checked by its schema."""

from __future__ import annotations

from wave_sandbox.contracts import check_contract
from wave_sandbox.contracts.markdown_spec import markdown_spec_problems, parse_spec
from wave_sandbox.contracts.model import ContractCheck

SPEC = """\
# Title
Keep trailing commas

## User Stories
As a parser user, I want trailing commas kept so that my lists round-trip.
Acceptance criteria:
- a trailing comma survives a round trip
- no other change

```python
# not a heading inside a fence
```

## Edge Cases
- empty list
- nested list

## Implementation Steps
1. Change the tokenizer
2. Add tests

## File Changes
src/parser.py
keep the comma
handle nesting

## Risks
Severity: low
"""
SCHEMA = {"type": "object", "required": ["title", "user_stories"],
          "properties": {"user_stories": {"type": "array", "minItems": 1}}}


def test_a_spec_is_read_into_wave_spec_data():
    spec = parse_spec(SPEC, "specs/001-commas/spec.md")
    assert spec["title"] == "Keep trailing commas"
    assert spec["user_stories"] == [{"as_a": "parser user", "i_want": "trailing commas kept",
                                     "so_that": "my lists round-trip",
                                     "acceptance_criteria": ["a trailing comma survives a round trip", "no other change"]}]
    assert spec["edge_cases"] == ["empty list", "nested list"]
    assert spec["implementation_steps"] == ["Change the tokenizer", "Add tests"]
    assert spec["file_changes"] == [{"path": "src/parser.py", "description": "keep the comma",
                                     "changes": "handle nesting\n"}]
    assert spec["risk_assessment"] == {"Severity": "low"}


def test_without_a_title_section_the_file_name_is_the_title_and_stories_are_null():
    assert parse_spec("just prose\n", "output/spec.md") == {"title": "spec", "user_stories": None}


def test_without_a_schema_any_readable_spec_passes_as_in_wave():
    assert markdown_spec_problems("", "output/spec.md", None) == []
    assert markdown_spec_problems("no headings at all", "output/spec.md", None) == []


def test_a_schema_refuses_a_spec_without_stories():
    assert markdown_spec_problems(SPEC, "spec.md", SCHEMA) == []
    problems = markdown_spec_problems("# Overview\nA plan\n", "spec.md", SCHEMA)
    assert problems and all(p.startswith("markdown spec does not match schema requirements: ") for p in problems)
    assert "user_stories" in problems[0]


def test_a_line_longer_than_go_s_scanner_buffer_fails_to_parse():
    problems = markdown_spec_problems("# T\n" + "x" * 70_000 + "\n", "spec.md", None)
    assert problems == ["failed to parse markdown specification: a line is longer than 64 KiB "
                        "(bufio.Scanner: token too long)"]


def test_check_contract_labels_markdown_spec_errors():
    contract = ContractCheck(type="markdown_spec", source="output/spec.md", schema=SCHEMA, schema_name="s.json")
    assert check_contract(contract, SPEC.encode()) == []
    assert check_contract(contract, b"# Overview\nA plan\n")[0].startswith(
        "output/spec.md (markdown_spec): markdown spec does not match schema requirements: ")
