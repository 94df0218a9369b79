"""The one step status and the run status: in the planner, in run.json and (as event states) in events.

A module of its own, without pydantic, so the planner and the events (loaded by every CLI start) do
not pay for the run.json model.
"""

from __future__ import annotations

from enum import StrEnum


class StepStatus(StrEnum):
    """A step's status: in the planner and in run.json; `completed`, `failed` and `skipped` are also event states."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"
    """Recorded for a step that was running when the run was stopped (its event says `failed`)."""
    REJECTED = "rejected"
    """A contract with on_failure `rejected` fired: Wave's design rejection, not a failure."""


class RunStatus(StrEnum):
    """A run's status in run.json."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    REJECTED = "rejected"
    """A step's design rejection ended the run: nothing failed, nothing more was done (exit 0, as Wave)."""

    @property
    def exit_code(self) -> int:
        return {RunStatus.COMPLETED: 0, RunStatus.INTERRUPTED: 130, RunStatus.REJECTED: 0}.get(self, 1)
