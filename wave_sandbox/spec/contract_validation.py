"""The checks of a step's `handover` contracts that `validate` promises before anything runs.

A contract checks one of the step's own artifacts (`source` is one of its output_artifacts paths), a
`json_schema` contract's schema file (and a `markdown_spec` contract's, when it names one) exists (beside
the pipeline or in the repository), is JSON and uses only keywords the checker knows, and a `markdown_sections` contract names sections and known rules.
Contracts of a type that is refused as not supported are left alone: that one line says it all.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from wave_sandbox.contracts.git_checks import declaration_pattern
from wave_sandbox.contracts.model import ARTIFACT_CONTRACT_TYPES
from wave_sandbox.contracts import (
    CONTRACT_TYPES,
    JSON_SCHEMA,
    MARKDOWN_SECTIONS,
    SECTION_CHECKS,
    SchemaFileError,
    find_schema_file,
    load_schema_file,
    schema_problems,
)
from wave_sandbox.spec.models import Contract, Handover
from wave_sandbox.spec.yaml_loader import Path_


def contract_places(handover: Handover) -> list[tuple[Path_, Contract]]:
    """Each contract in force with its place under the step: Wave's `contracts`, else `contract`."""
    if handover.contracts:
        return [(("handover", "contracts", index), contract) for index, contract in enumerate(handover.contracts)]
    return [(("handover", "contract"), handover.contract)] if handover.contract is not None else []


def check_step_contracts(check, indexed) -> None:
    """Report every problem of the step's contracts into `check` (a validation.SemanticCheck)."""
    handover = indexed.step.handover
    if handover is None:
        return
    if handover.contract is not None and handover.contracts:
        message = "give handover.contract or handover.contracts, not both (Wave would ignore contract)"
        check.add(indexed.path("handover", "contract"), message, indexed.path("handover"))
    declared = [posixpath.normpath(a.path) for a in indexed.step.output_artifacts if a.path]
    for place, contract in contract_places(handover):
        where = indexed.path(*place)
        if contract.type is None:
            check.add(where, f"missing required field 'type' ({', '.join(CONTRACT_TYPES)})")
        elif contract.type in CONTRACT_TYPES:
            if contract.type in ARTIFACT_CONTRACT_TYPES and (contract.type != "agent_review" or contract.source):
                _check_source(check, where, contract, declared)
            _check_type_specific_fields(check, where, contract, indexed)
            check_control_fields(check, where, contract, indexed)


def _check_source(check, where: Path_, contract: Contract, declared: list[str]) -> None:
    if contract.source is None:
        if not declared:  # Wave checks the first output artifact; there is none
            check.add(where, "missing field 'source', and the step declares no output artifact to check instead")
    elif posixpath.normpath(contract.source) not in declared:
        shown = ", ".join(declared) or "none"
        message = f"source '{contract.source}' is not an artifact path of this step (its output_artifacts: {shown})"
        check.add(where + ("source",), message, where)


def _check_type_specific_fields(check, where: Path_, contract: Contract, indexed) -> None:
    if contract.type == JSON_SCHEMA or (contract.type == "markdown_spec" and contract.schema_path is not None):
        _check_schema(check, where, contract, indexed)
    elif contract.type == "format":
        _check_format_schema_name(check, where, contract)
    elif contract.schema_path is not None:
        check.add(where + ("schema_path",), f"schema_path is only used by json_schema, not {contract.type}", where)
    if contract.type == MARKDOWN_SECTIONS:
        _check_sections(check, where, contract)
    else:
        for field in ("sections", "blameless"):
            if field in contract.model_fields_set and getattr(contract, field):
                check.add(where + (field,), f"'{field}' is only used by markdown_sections, not {contract.type}", where)


def _check_schema(check, where: Path_, contract: Contract, indexed) -> None:
    if contract.schema_path is None:
        check.add(where, "json_schema needs schema_path (a JSON Schema file beside the pipeline or in the repository)")
        return
    key = where + ("schema_path",)
    try:
        schema = load_json_schema(contract.schema_path, check.pipeline_folder or check.repo, check.repo)
    except SchemaFileError as error:
        check.add(key, str(error), where)
        return
    for problem in schema_problems(schema):
        check.add(key, f"schema_path '{contract.schema_path}': {problem}", where)


def _check_format_schema_name(check, where: Path_, contract: Contract) -> None:
    """format reads no schema file: its schema_path only names the rule set (Wave's inferFormatType)."""
    if contract.schema_path is not None and not (isinstance(contract.schema_path, str) and contract.schema_path.strip()):
        check.add(where + ("schema_path",), "schema_path of a format contract must name a schema file", where)


def load_json_schema(schema_path: str, pipeline_folder: Path, repo: Path):
    """The parsed schema a contract names (SchemaFileError when it cannot be found or read)."""
    return load_schema_file(find_schema_file(schema_path, pipeline_folder, repo), schema_path)


def _check_sections(check, where: Path_, contract: Contract) -> None:
    if not contract.sections and not contract.blameless:
        check.add(where, "markdown_sections needs sections (or blameless: true) to check anything")
    known = ", ".join(SECTION_CHECKS)
    for index, section in enumerate(contract.sections):
        place = where + ("sections", index)
        if not all(keyword.strip() for keyword in section.keywords) or not section.keywords:
            check.add(place + ("heading",), "heading needs at least one non-empty keyword", place)
        if any(not all(term.strip() for term in terms) or not terms for terms in section.mention_alternatives):
            check.add(place + ("mentions",), "mentions needs non-empty terms", place)
        if section.check is not None and section.check not in SECTION_CHECKS:
            check.add(place + ("check",), f"unknown check '{section.check}' (known: {known})", place)


def check_control_fields(check, where: Path_, contract: Contract, indexed) -> None:
    """What the new contract types need to run, and that a rework contract names a step that exists."""
    needs = {
        "test_suite": ("command", isinstance(contract.command, str) and contract.command.strip()),
        "llm_judge": ("criteria", isinstance(contract.criteria, list) and contract.criteria),
        "event_contains": ("events", isinstance(contract.events, list) and contract.events
                           and all(isinstance(e, dict) and e.get("state") for e in contract.events)),
    }
    if contract.type == "agent_review":
        if not isinstance(contract.persona, str) or not contract.persona:
            check.add(where, "agent_review needs 'persona' (the reviewer persona)")
        elif contract.persona not in check.persona_names:
            available = ", ".join(check.persona_names)
            check.add(where + ("persona",), f"unknown reviewer persona '{contract.persona}' (available: {available})", where)
    if contract.type in needs and not needs[contract.type][1]:
        field = needs[contract.type][0]
        check.add(where, f"{contract.type} needs '{field}' ({_FIELD_HINTS[field]})")
    works_on_checkout = indexed.step.is_readwrite or (indexed.step.workspace and indexed.step.workspace.type == "worktree")
    if contract.type in ("source_diff", "test_diff", "test_count_baseline") and not works_on_checkout:
        check.add(where + ("type",), f"{contract.type} checks what the step changed: give the step a readwrite mount", where)
    # on_failure rework without a rework step is Wave's run-time error, not a load error: the contract then fails
    if contract.test_func_pattern is not None:
        try:
            declaration_pattern(contract.test_func_pattern)
        except (ValueError, re.error) as error:
            check.add(where + ("test_func_pattern",), str(error), where)


_FIELD_HINTS = {
    "command": "the test command, e.g. 'go test ./...'",
    "criteria": "a list of criteria the judge checks",
    "events": "a list of {state, contains} the step's events must include",
}
