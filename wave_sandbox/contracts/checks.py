"""Check one artifact's content against one contract: the errors that go back to the agent.

Each error is one line that starts with the contract (`output/triage.json (json_schema): `) and says
what is wrong where: a JSON path, a section heading, a line number of the artifact.
"""

from __future__ import annotations

from wave_sandbox.contracts.blame import blame_problems
from wave_sandbox.contracts.json_depth import JsonTooDeepError, loads_bounded
from wave_sandbox.contracts.json_schema import validation_errors
from wave_sandbox.contracts.markdown import Document, mentions, parse_document
from wave_sandbox.contracts.format_rules import format_problems
from wave_sandbox.contracts.markdown_spec import markdown_spec_problems
from wave_sandbox.contracts.model import (
    FORMAT, JSON_SCHEMA, MARKDOWN_SECTIONS, MARKDOWN_SPEC, NON_EMPTY_FILE, ContractCheck, SectionRequirement,
)
from wave_sandbox.contracts.section_rules import SECTION_CHECKS

MAX_ERRORS_PER_CONTRACT = 20
SHOWN_HEADINGS = 15


def check_contract(contract: ContractCheck, content: bytes) -> list[str]:
    """Every way `content` breaks `contract`, as lines prefixed by the contract's label; [] when it holds."""
    problems = _problems(contract, content)
    if len(problems) > MAX_ERRORS_PER_CONTRACT:
        hidden = len(problems) - MAX_ERRORS_PER_CONTRACT
        problems = problems[:MAX_ERRORS_PER_CONTRACT] + [f"... and {hidden} more"]
    return [f"{contract.label}: {problem}" for problem in problems]


def _problems(contract: ContractCheck, content: bytes) -> list[str]:
    if contract.type == MARKDOWN_SPEC:  # Wave reads an empty spec as one with only a title
        return markdown_spec_problems(content.decode("utf-8", errors="replace"), contract.source, contract.schema)
    if not content.strip():
        return ["the file is empty"]  # also whitespace only: nothing a next step could use
    if contract.type == NON_EMPTY_FILE:
        return []
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        return [f"the file is not UTF-8 text ({error})"]
    if contract.type == JSON_SCHEMA:
        return _json_schema_problems(contract, text)
    if contract.type == MARKDOWN_SECTIONS:
        return markdown_problems(contract, text)
    if contract.type == FORMAT:
        return format_problems(text, contract.schema_name)
    return [f"unknown contract type '{contract.type}'"]


def _json_schema_problems(contract: ContractCheck, text: str) -> list[str]:
    try:
        document = loads_bounded(text)
    except JsonTooDeepError as error:
        return [str(error)]
    except ValueError as error:
        return [f"not valid JSON: {error}"]
    return validation_errors(document, contract.schema)


def markdown_problems(contract: ContractCheck, text: str) -> list[str]:
    document = parse_document(text)
    problems = [problem for wanted in contract.sections for problem in _section_problems(document, wanted)]
    if contract.blameless:
        problems += blame_problems(text)
    return problems


def _section_problems(document: Document, wanted: SectionRequirement) -> list[str]:
    section = document.find(wanted.keywords)
    if section is None:
        return [f"no section whose heading mentions {_alternatives(wanted.keywords)} ({_headings_found(document)})"]
    place = f"section '{section.title}' (line {section.line})"
    if section.is_empty:
        return [f"{place} is empty"]
    problems = [
        f"{place} does not mention {_alternatives(alternatives)}"
        for alternatives in wanted.mentions
        if not any(mentions(term, section.title + "\n" + section.text) for term in alternatives)
    ]
    if wanted.check is not None:
        rule, _ = SECTION_CHECKS[wanted.check]
        problems += [f"{place}: {problem}" for problem in rule(document, section)]
    return problems


def _alternatives(words: tuple[str, ...]) -> str:
    return " or ".join(f"'{word}'" for word in words)


def _headings_found(document: Document) -> str:
    titles = [section.title for section in document.body_sections]
    if not titles:
        return "the document has no headings; start each section with a '## ' heading"
    shown = ", ".join(f"'{title}'" for title in titles[:SHOWN_HEADINGS])
    more = f" and {len(titles) - SHOWN_HEADINGS} more" if len(titles) > SHOWN_HEADINGS else ""
    return f"headings found: {shown}{more}"
