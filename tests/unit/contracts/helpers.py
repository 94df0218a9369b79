"""Shortcuts for contract tests: build a contract, check text against it."""

from __future__ import annotations

import json
from pathlib import Path

from wave_sandbox.contracts import ContractCheck, SectionRequirement, check_contract
from wave_sandbox.resources import builtin_pipelines_dir

FIXTURES = Path(__file__).parent / "fixtures"
TRIAGE_SCHEMA = json.loads((builtin_pipelines_dir() / "schemas" / "triage.schema.json").read_text())


def sections_contract(*requirements: SectionRequirement, blameless: bool = False) -> ContractCheck:
    return ContractCheck("markdown_sections", "output/report.md", sections=requirements, blameless=blameless)


def section(*keywords: str, check: str | None = None, mentions: tuple[tuple[str, ...], ...] = ()) -> SectionRequirement:
    return SectionRequirement(keywords, mentions, check)


def errors_of(contract: ContractCheck, text: str) -> list[str]:
    return check_contract(contract, text.encode("utf-8"))


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")
