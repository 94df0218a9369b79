"""Contracts on step artifacts: Wave's `handover.contract` / `handover.contracts`, checked on the host.

Three types are honoured: `json_schema` (a JSON artifact against a JSON Schema shipped with the
pipeline), `non_empty_file`, and our `markdown_sections` (sections found by heading keywords, named
content rules, and an optional "no person blamed" check). The engine checks each collected artifact;
a failure goes back to the agent once with the exact errors (Wave's retry context), then fails the step.
"""

from wave_sandbox.contracts.checks import check_contract
from wave_sandbox.contracts.describe import describe_contract
from wave_sandbox.contracts.json_schema import schema_problems, validation_errors
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

__all__ = [
    "CONTRACT_TYPES", "ContractCheck", "JSON_SCHEMA", "MARKDOWN_SECTIONS", "NON_EMPTY_FILE",
    "ON_FAILURE_CHOICES", "ON_FAILURE_HALT", "ON_FAILURE_RETRY", "SECTION_CHECKS", "SchemaFileError",
    "SectionRequirement", "check_contract", "describe_contract", "find_schema_file", "load_schema_file",
    "schema_problems", "validation_errors",
]
