"""What a read-write step's commit says beyond its summary: the agent's report and the artifacts it read."""

from __future__ import annotations

from pathlib import Path

from wave_sandbox.engine.records import RunRecord
from wave_sandbox.engine.step_execution import StepJob, StepOutcome
from wave_sandbox.workspace.commit_message import CommitDetails


def commit_details(outcome: StepOutcome, job: StepJob, record: RunRecord) -> CommitDetails:
    """The final answer, and each injected artifact by name and by its path in the run's record."""
    sources = [(f"{item.alias} (step {item.step_id})", _shown_path(path, record.repo)) for item, path in job.injected]
    return CommitDetails(outcome.final_text, sources)


def _shown_path(path: Path, repo: Path) -> str:
    try:
        return str(path.relative_to(repo))
    except ValueError:
        return str(path)
