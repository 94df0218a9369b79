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
TEST_SUITE = "test_suite"
LLM_JUDGE = "llm_judge"
EVENT_CONTAINS = "event_contains"
SOURCE_DIFF = "source_diff"
TEST_DIFF = "test_diff"
TEST_COUNT_BASELINE = "test_count_baseline"
AGENT_REVIEW = "agent_review"
FORMAT = "format"
MARKDOWN_SPEC = "markdown_spec"
CONTRACT_TYPES = (
    JSON_SCHEMA, NON_EMPTY_FILE, MARKDOWN_SECTIONS, TEST_SUITE, LLM_JUDGE, EVENT_CONTAINS, SOURCE_DIFF, TEST_DIFF,
    TEST_COUNT_BASELINE, AGENT_REVIEW, FORMAT, MARKDOWN_SPEC,
)
ARTIFACT_CONTRACT_TYPES = (JSON_SCHEMA, NON_EMPTY_FILE, MARKDOWN_SECTIONS, LLM_JUDGE, AGENT_REVIEW, FORMAT, MARKDOWN_SPEC)
"""Types that check one artifact (`source`, or the step's first output artifact)."""

ON_FAILURE_RETRY = "retry"
ON_FAILURE_HALT = "halt"
ON_FAILURE_FAIL = "fail"
ON_FAILURE_WARN = "warn"
ON_FAILURE_CONTINUE = "continue"
ON_FAILURE_SKIP = "skip"
ON_FAILURE_REWORK = "rework"
ON_FAILURE_REJECTED = "rejected"
ON_FAILURE_CHOICES = (
    ON_FAILURE_RETRY, ON_FAILURE_HALT, ON_FAILURE_FAIL, ON_FAILURE_WARN, ON_FAILURE_CONTINUE, ON_FAILURE_SKIP,
    ON_FAILURE_REWORK, ON_FAILURE_REJECTED,
)
"""Wave's fail (its default), warn, continue, skip, rework and rejected, and our retry and halt."""


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
    """json_schema (and markdown_spec when it names one): the schema, already parsed."""
    schema_name: str = ""
    """json_schema: the schema file as the pipeline names it (for messages)."""
    sections: tuple[SectionRequirement, ...] = ()
    """markdown_sections: the sections the document must have."""
    blameless: bool = False
    """markdown_sections: no sentence may blame a person."""
    rework_step: str | None = None
    """on_failure rework: the step that runs on the same clone when this contract fails."""
    rework_rounds: int = 1
    """on_failure rework: how often the rework step may run before the contract fails (Wave's max_retries)."""
    settings: tuple[tuple[str, Any], ...] = ()
    """The type's own settings (test_suite's command, event_contains' events...), as (field, value) pairs."""

    def setting(self, name: str, default: Any = None) -> Any:
        """One of the type's own settings, or `default`."""
        return dict(self.settings).get(name, default)
    mock: bool = False
    """The run uses `--model mock`: a contract that calls a model passes with `mock_content.MOCK_VERDICT` instead."""

    @property
    def label(self) -> str:
        """How messages name the contract: `output/triage.json (json_schema)`."""
        return f"{self.source} ({self.type})"
