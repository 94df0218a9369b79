"""Contracts in words, for the agent's prompt: what each file must satisfy before the step ends.

Wave shows a step its contract up front; so do we, so that a careful model passes on the first attempt
and the retry (with the exact errors) stays the exception.
"""

from __future__ import annotations

import json

from wave_sandbox.contracts.format_rules import format_kind
from wave_sandbox.contracts.model import FORMAT, JSON_SCHEMA, MARKDOWN_SECTIONS, MARKDOWN_SPEC, NON_EMPTY_FILE, ContractCheck
from wave_sandbox.contracts.section_rules import SECTION_CHECKS

WORKSPACE = "/workspace"


def describe_contract(contract: ContractCheck) -> str:
    """A Markdown paragraph (or list) saying what `contract` asks of its file."""
    where = f"{WORKSPACE}/{contract.source}"
    advisory = "" if contract.must_pass else " (advisory: a failure is only reported)"
    if contract.type == NON_EMPTY_FILE:
        return f"- {where} must not be empty{advisory}."
    if contract.type == JSON_SCHEMA:
        schema = json.dumps(contract.schema, indent=2, ensure_ascii=False)
        named = f" ({contract.schema_name})" if contract.schema_name else ""
        return f"- {where} must validate against this JSON Schema{named}{advisory}:\n\n```json\n{schema}\n```"
    if contract.type == MARKDOWN_SECTIONS:
        return _describe_sections(where, contract, advisory)
    if contract.type == FORMAT:
        kind = format_kind(contract.schema_name)
        return f"- {where} must be a JSON object passing Wave's '{kind}' format rules (no placeholders){advisory}."
    if contract.type == MARKDOWN_SPEC:
        named = f", whose parsed spec validates against {contract.schema_name}" if contract.schema is not None else ""
        return f"- {where} must be a Markdown specification (user stories, sections by heading){named}{advisory}."
    return f"- {where}: {contract.type}{advisory}"


def _describe_sections(where: str, contract: ContractCheck, advisory: str) -> str:
    lines = [f"- {where} must have these sections, each a Markdown heading (`## ...`) containing the "
             f"quoted words, with content under it{advisory}:"]
    for wanted in contract.sections:
        line = f"  - {' or '.join(repr(keyword) for keyword in wanted.keywords)}"
        if wanted.mentions:
            terms = "; ".join(" or ".join(repr(term) for term in alternatives) for alternatives in wanted.mentions)
            line += f"; mentioning {terms}"
        if wanted.check is not None:
            line += f": {SECTION_CHECKS[wanted.check][1]}"
        lines.append(line)
    if contract.blameless:
        lines.append("  - Blameless: no sentence may blame a person (no names, roles or @handles next to "
                     "'forgot', 'mistake', 'careless'...); describe what in the system allowed the failure.")
    return "\n".join(lines)
