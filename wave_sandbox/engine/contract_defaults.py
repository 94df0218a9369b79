"""What a contract means when the pipeline leaves part of it unsaid, as Wave decides it.

- No `source`: the contract checks the step's first output artifact (Wave's `runSingleContract`).
- No `on_failure`: Wave's default is `fail` (the attempt fails; the step's `retry:` policy decides whether
  a fresh attempt runs). A step without a `retry:` block keeps wave-sandbox's rule instead (DESIGN.md): the
  agent gets the errors once, in the same container (`retry`).
"""

from __future__ import annotations

import posixpath
from typing import Any

from wave_sandbox.contracts.model import ARTIFACT_CONTRACT_TYPES, ON_FAILURE_FAIL, ON_FAILURE_RETRY
from wave_sandbox.spec.models import Contract, Step

TYPE_SETTINGS = (
    "command", "command_args", "dir", "model", "criteria", "threshold", "persona", "criteria_path", "context",
    "token_budget", "timeout", "events", "glob", "exclude", "min_files", "max_test_deletions",
    "test_file_pattern", "test_func_pattern", "base_ref",
)
"""The fields of Wave's ContractConfig that only some types read; they travel as the check's settings."""


def contract_source(step: Step, contract: Contract) -> str:
    """The artifact path the contract checks: its `source`, else the step's first output artifact;
    "" for the types that check the step's result or events rather than an artifact."""
    if contract.type not in ARTIFACT_CONTRACT_TYPES:
        return ""
    if contract.source:
        return posixpath.normpath(contract.source)
    first = next((artifact.path for artifact in step.output_artifacts if artifact.path), None)
    return posixpath.normpath(first) if first else ""


def contract_on_failure(step: Step, contract: Contract) -> str:
    if contract.on_failure:
        return contract.on_failure
    return ON_FAILURE_FAIL if step.retry is not None else ON_FAILURE_RETRY


def contract_settings(contract: Contract) -> tuple[tuple[str, Any], ...]:
    """The type-specific fields the pipeline set, in a fixed order."""
    return tuple(
        (name, getattr(contract, name)) for name in TYPE_SETTINGS if getattr(contract, name, None) is not None
    )
