"""What one contract asks of one artifact, decided before the step runs.

A contract is Wave's `handover.contract` (or one item of `handover.contracts`), resolved: its schema
already read from disk, its section rules spelled out. Checking it needs nothing but the artifact's bytes,
so the check runs on the host, on what was collected from the container, never inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JSON_SCHEMA = "json_schema"
NON_EMPTY_FILE = "non_empty_file"
MARKDOWN_SECTIONS = "markdown_sections"
CONTRACT_TYPES = (JSON_SCHEMA, NON_EMPTY_FILE, MARKDOWN_SECTIONS)

ON_FAILURE_RETRY = "retry"
ON_FAILURE_HALT = "halt"
ON_FAILURE_CHOICES = (ON_FAILURE_RETRY, ON_FAILURE_HALT)


@dataclass(frozen=True)
class SectionRequirement:
    """A section a Markdown artifact must have: found by heading keywords, then checked."""

    keywords: tuple[str, ...]
    """Any one of these, found at the start of a word of a heading (case-insensitive), names the section."""
    mentions: tuple[tuple[str, ...], ...] = ()
    """Terms the section's text must contain; each is a tuple of alternatives."""
    check: str | None = None
    """A named structural rule for the section's content (see `section_rules.SECTION_CHECKS`)."""

    @property
    def label(self) -> str:
        """How messages name the section: its first keyword."""
        return self.keywords[0]


@dataclass(frozen=True)
class ContractCheck:
    """One contract on one artifact of a step."""

    type: str
    """json_schema, non_empty_file or markdown_sections."""
    source: str
    """The artifact's path relative to /workspace (one of the step's output_artifacts)."""
    must_pass: bool = True
    """False makes the contract advisory: a failure is a warning, the step still completes."""
    on_failure: str = ON_FAILURE_RETRY
    """retry: the agent gets the errors once and may fix the file; halt: the step fails at once."""
    schema: Any = None
    """json_schema: the schema, already parsed."""
    schema_name: str = ""
    """json_schema: the schema file as the pipeline names it (for messages)."""
    sections: tuple[SectionRequirement, ...] = ()
    """markdown_sections: the sections the document must have."""
    blameless: bool = False
    """markdown_sections: no sentence may blame a person."""
    mock: bool = False
    """The run uses `--model mock`: a contract that calls a model passes with `mock_content.MOCK_VERDICT` instead."""

    @property
    def label(self) -> str:
        """How messages name the contract: `output/triage.json (json_schema)`."""
        return f"{self.source} ({self.type})"
