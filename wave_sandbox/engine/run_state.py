"""A run's true state: what its record says, corrected by whether the process running it still lives.

run.json says `running` from the moment a run starts until it finishes; a run whose process was
killed (kill -9, a reboot, a crash) never gets to write its end. So every command that shows a run
(`runs`, `show`, `status`, `resume`, `cancel`) asks `run_state` instead of reading the status field:
a `running` record whose owner process (pid + start time, so a reused pid does not count) is gone
is `interrupted (process ended)`, and its running steps are interrupted too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from wave_sandbox.engine.liveness import is_run_alive
from wave_sandbox.engine.run_file import RunFile, RunStatus, StepStatus
from wave_sandbox.sandbox.backend import owner_process_is_alive

__all__ = ["PROCESS_ENDED", "RunState", "owner_pid", "run_is_alive", "run_state"]

PROCESS_ENDED = "process ended"


@dataclass(frozen=True)
class RunState:
    """What a run is now, as every command shows it."""

    status: RunStatus
    """The true status: `running` only while the run's process lives."""
    alive: bool
    """The run's process runs (and holds the run)."""
    reason: str | None = None
    """Why the status differs from the record's (`process ended`), else None."""
    step_statuses: dict[str, StepStatus] = field(default_factory=dict)
    """Each step's true status: a dead run's `running` steps are `interrupted`."""
    current_steps: list[str] = field(default_factory=list)
    """Steps running now (only while alive)."""
    elapsed_s: float | None = None
    """Seconds since the run (or its latest resume) started, while alive."""

    @property
    def label(self) -> str:
        """The status as shown: `interrupted (process ended)` for a run whose process is gone."""
        return f"{self.status} ({self.reason})" if self.reason else str(self.status)


def run_is_alive(recorded: RunFile) -> bool:
    """The process named in the record runs; older records without an owner ask the run's lease."""
    if recorded.owner:
        return owner_process_is_alive(recorded.owner)
    return is_run_alive(recorded.run_id)


def run_state(recorded: RunFile, now: datetime | None = None) -> RunState:
    """The run's true state (see the module docstring)."""
    steps = {step_id: step.status for step_id, step in recorded.steps.items()}
    if recorded.status is not RunStatus.RUNNING:
        return RunState(recorded.status, alive=False, step_statuses=steps)
    if not run_is_alive(recorded):
        ended = {step_id: StepStatus.INTERRUPTED if status is StepStatus.RUNNING else status
                 for step_id, status in steps.items()}
        return RunState(RunStatus.INTERRUPTED, alive=False, reason=PROCESS_ENDED, step_statuses=ended)
    current = [step_id for step_id, status in steps.items() if status is StepStatus.RUNNING]
    return RunState(RunStatus.RUNNING, alive=True, step_statuses=steps, current_steps=current,
                    elapsed_s=_seconds_since(recorded.resumed_at or recorded.started_at, now))


def owner_pid(recorded: RunFile) -> int | None:
    """The pid in the record's owner (`<host>:<pid>:<start>`), when there is one."""
    pid_text = (recorded.owner or "").split(":")[1:2]
    return int(pid_text[0]) if pid_text and pid_text[0].isdigit() else None


def _seconds_since(moment: str | None, now: datetime | None) -> float | None:
    if not moment:
        return None
    try:
        started = datetime.fromisoformat(moment)
    except ValueError:
        return None
    return max(0.0, ((now or datetime.now(timezone.utc)) - started).total_seconds())
