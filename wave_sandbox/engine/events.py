"""Events the engine emits; displays (console, JSON lines) and the run record listen.

The engine never prints: it hands each event to its listeners in order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Callable, Protocol

from wave_sandbox.engine.status import StepStatus

RUN_STARTED = "run_started"
STEP_STARTED = "started"
STEP_COMPLETED = StepStatus.COMPLETED.value
STEP_FAILED = StepStatus.FAILED.value
STEP_SKIPPED = StepStatus.SKIPPED.value
RUN_COMPLETED = "run_completed"
RUN_FAILED = "run_failed"

RUN_END_STATES = {RUN_COMPLETED, RUN_FAILED}

INTERRUPTED_MESSAGE = "interrupted"
"""The message of the `run_failed` event of a run stopped by Ctrl-C, SIGTERM or `cancel`."""


@dataclass(frozen=True)
class RunEvent:
    """One thing that happened in a run, with what a display needs to show it."""

    state: str
    run_id: str
    pipeline: str
    timestamp: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    step_id: str | None = None
    persona: str | None = None
    duration_ms: int | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    message: str = ""
    artifacts: list[str] = field(default_factory=list)
    branch: str | None = None
    commits: list[str] = field(default_factory=list)
    branch_files_changed: int | None = None
    branch_acting_files: list = field(default_factory=list)  # workspace.acting_files.ActingFile

    def to_json_dict(self) -> dict:
        """The `--json` shape: ISO-8601 UTC with milliseconds and Z; branch fields only at the end."""
        data = asdict(self)
        data["timestamp"] = format_utc_timestamp(self.timestamp)
        data.pop("branch_files_changed")
        data.pop("branch_acting_files")
        if self.state not in RUN_END_STATES:
            data.pop("branch")
            data.pop("commits")
        return data


def format_utc_timestamp(moment: datetime) -> str:
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class EventListener(Protocol):
    def __call__(self, event: RunEvent) -> None: ...


class EventBus:
    """Delivers each event to every listener; a failing listener never stops the run."""

    def __init__(self, listeners: list[Callable[[RunEvent], None]] | None = None):
        self.listeners = list(listeners or [])
        self.failures: list[str] = []

    def subscribe(self, listener: Callable[[RunEvent], None]) -> None:
        self.listeners.append(listener)

    def emit(self, event: RunEvent) -> None:
        for listener in self.listeners:
            try:
                listener(event)
            except Exception as error:  # a broken display must not lose the run's work
                self.failures.append(f"{type(error).__name__}: {error}")
