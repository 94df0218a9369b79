"""Contracts on step artifacts: Wave's `handover.contract` / `handover.contracts`, checked on the host.

Three types are honoured: `json_schema` (a JSON artifact against a JSON Schema shipped with the
pipeline), `non_empty_file`, and our `markdown_sections` (sections found by heading keywords, named
content rules, and an optional "no person blamed" check). The engine checks each collected artifact;
a failure goes back to the agent once with the exact errors (Wave's retry context), then fails the step.

The checkers (and jsonschema under them) are imported on the first check, through `CHECKERS`: loading a
pipeline and running steps without contracts needs only the declarations below.
"""

from __future__ import annotations

from typing import Any

from wave_sandbox.contracts.describe import describe_contract
from wave_sandbox.contracts.model import (
    CONTRACT_TYPES,
    JSON_SCHEMA,
    MARKDOWN_SECTIONS,
    NON_EMPTY_FILE,
    ON_FAILURE_CHOICES,
    ON_FAILURE_HALT,
    ON_FAILURE_RETRY,
    ContractCheck,
    SectionRequirement,
)
from wave_sandbox.contracts.schema_files import SchemaFileError, find_schema_file, load_schema_file
from wave_sandbox.contracts.section_rules import SECTION_CHECKS
from wave_sandbox.on_demand import OnDemand

CHECKERS = OnDemand({
    "check_contract": "wave_sandbox.contracts.checks:check_contract",
    "validation_errors": "wave_sandbox.contracts.json_schema:validation_errors",
    "schema_problems": "wave_sandbox.contracts.schema_allowlist:schema_problems",
})


def check_contract(contract: ContractCheck, content: bytes) -> list[str]:
    """Every way `content` breaks `contract`, as lines prefixed by the contract's label; [] when it holds."""
    return CHECKERS["check_contract"](contract, content)


def validation_errors(instance: Any, schema: Any) -> list[str]:
    """Every way `instance` breaks the JSON Schema `schema`, each as `$.json.path: what is wrong`."""
    return CHECKERS["validation_errors"](instance, schema)


def schema_problems(schema: Any) -> list[str]:
    """Why `schema` cannot be used as a contract (unsupported keyword, bad value, dangling $ref), or []."""
    return CHECKERS["schema_problems"](schema)


__all__ = [
    "CHECKERS", "CONTRACT_TYPES", "ContractCheck", "JSON_SCHEMA", "MARKDOWN_SECTIONS", "NON_EMPTY_FILE",
    "ON_FAILURE_CHOICES", "ON_FAILURE_HALT", "ON_FAILURE_RETRY", "SECTION_CHECKS", "SchemaFileError",
    "SectionRequirement", "check_contract", "describe_contract", "find_schema_file", "load_schema_file",
    "schema_problems", "validation_errors",
]
