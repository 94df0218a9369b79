"""The model of `run.json` and the statuses it records: one set of defaults for `run`, `resume` and `show`.

The JSON shape is the one every release wrote (other commands, scripts and tests read it): keys are
only added, never renamed, and every key added since the first release has a default here, so records
written by an older version still open. Unknown keys are kept (`extra="allow"`): a newer version's
record opened by this one loses nothing when written back.
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from wave_sandbox.engine.status import RunStatus, StepStatus

__all__ = [
    "DEFAULT_OUTPUT", "DEFAULT_STEP_TIMEOUT_S", "RecordedOptions", "RunFile", "RunStatus", "StepRecord", "StepStatus",
    "default_max_parallel",
]  # fmt: skip

DEFAULT_STEP_TIMEOUT_S = 900
DEFAULT_OUTPUT = "output"


def default_max_parallel() -> int:
    """Steps at once when nothing says otherwise: one per CPU (for `run` and for `resume` alike)."""
    return os.cpu_count() or 2


class _Recorded(BaseModel):
    model_config = ConfigDict(extra="allow")


class RecordedOptions(_Recorded):
    """The options a run was started with, so that `resume` runs on with the same ones."""

    max_parallel: int = Field(default_factory=default_max_parallel)
    step_timeout_s: int = DEFAULT_STEP_TIMEOUT_S
    steps: list[str] | None = None
    """--steps."""
    exclude: list[str] | None = None
    keep: bool = False
    output: str = DEFAULT_OUTPUT
    """--output as a path (relative to where the run started, or absolute)."""
    output_display: str | None = None
    """--output as the user wrote it (older records: absent, `output` is shown)."""
    attachments: list[str] = Field(default_factory=list)
    runtime: str | None = None
    """--runtime (older records: absent, the engine's default)."""

    @property
    def shown_output(self) -> str:
        return self.output_display or self.output


class StepRecord(_Recorded):
    """One step's entry under `steps`."""

    status: StepStatus = StepStatus.PENDING
    persona: str | None = None
    started_at: str | None = None
    summary: str | None = None
    duration_ms: int | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    artifacts: list[str] = Field(default_factory=list)
    refusals: list[str] = Field(default_factory=list)
    model: str | None = None
    tools: list[str] = Field(default_factory=list)
    timeout_s: int | None = None
    limits: dict[str, Any] | None = None
    retry_errors: list[str] = Field(default_factory=list)

    @property
    def tokens(self) -> int:
        return (self.tokens_in or 0) + (self.tokens_out or 0)


class RunFile(_Recorded):
    """The whole of run.json."""

    run_id: str
    pipeline: str = "?"
    """The pipeline's `metadata.name`."""
    pipeline_file: str | None = None
    input: str = ""
    model: str | None = None
    """What answered, as `anthropic:ID` or `scripted:FILE`."""
    status: RunStatus = RunStatus.RUNNING
    started_at: str | None = None
    resumed_at: str | None = None
    finished_at: str | None = None
    duration_ms: int | None = None
    failure: str | None = None
    base_commit: str | None = None
    """The commit the clone started from (read-write runs)."""
    branch: str | None = None
    commits: list[str] = Field(default_factory=list)
    artifacts: list[str] = Field(default_factory=list)
    acting_files: list[dict[str, Any]] = Field(default_factory=list)
    options: RecordedOptions = Field(default_factory=RecordedOptions)
    steps: dict[str, StepRecord] = Field(default_factory=dict)
    owner: str | None = None
    """The process running it, as ``<host>:<pid>:<start>`` (older records: absent, the run's lease decides)."""

    def completed_steps(self) -> set[str]:
        return {step_id for step_id, step in self.steps.items() if step.status is StepStatus.COMPLETED}

    def to_json_data(self) -> dict[str, Any]:
        """What run.json holds: the keys that were set (a new run sets them all), enums as their values."""
        return self.model_dump(mode="json", exclude_unset=True)
