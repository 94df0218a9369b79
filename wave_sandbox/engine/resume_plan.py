"""What `resume --from-step STEP` runs again, and where the run's branch then stands.

STEP and every step that depends on it (transitively) run again. A read-write step run again drops
its commit from the branch, and with it every later commit (each was made on top of it): the steps
that made those run again too. The record is changed to say so before the run resumes, so that the
rest of resume (the finished steps it reuses, the branch tip it clones) reads it as usual.
"""

from __future__ import annotations

from wave_sandbox.engine.records import RunRecord
from wave_sandbox.engine.run_file import StepStatus
from wave_sandbox.errors import ConfigurationError
from wave_sandbox.spec.loader import LoadedPipeline


def dependents_of(loaded: LoadedPipeline, step_ids: set[str]) -> set[str]:
    """`step_ids` and every step that depends on one of them, transitively."""
    found = set(step_ids)
    grew = True
    while grew:
        grew = False
        for step in loaded.pipeline.steps:
            if step.id not in found and found & set(step.dependencies):
                found.add(step.id)
                grew = True
    return found


def steps_to_run_again(loaded: LoadedPipeline, record: RunRecord, from_step: str) -> set[str]:
    """STEP, its dependents, and the makers of every commit made on top of a dropped one."""
    known = [step.id for step in loaded.pipeline.steps]
    if from_step not in known:
        raise ConfigurationError(f"--from-step {from_step}: the pipeline has no such step (steps: {', '.join(known)})")
    again = dependents_of(loaded, {from_step})
    commits, makers = record.run_file.commits, _commit_makers(record)
    dropped = [commits.index(makers[step]) for step in again if makers.get(step) in commits]
    if dropped:
        later = {step for step, sha in makers.items() if sha in commits[min(dropped):]}
        again = dependents_of(loaded, again | later)
    return again


def rewind_record(loaded: LoadedPipeline, record: RunRecord, from_step: str) -> set[str]:
    """Mark the steps run again as pending and drop their commits from the record; return them."""
    again = steps_to_run_again(loaded, record, from_step)
    makers = _commit_makers(record)
    dropped = {makers[step] for step in again if step in makers}
    commits = record.run_file.commits
    keep = commits[: min([commits.index(sha) for sha in dropped if sha in commits], default=len(commits))]
    for step_id in again:
        if step_id in record.data.get("steps", {}):
            record.update_step(step_id, status=StepStatus.PENDING.value, commit=None)
    record.update(commits=keep, branch=record.data.get("branch") if keep else None)
    return again


def _commit_makers(record: RunRecord) -> dict[str, str]:
    """step id -> the commit it made on the branch (read-write steps that changed something)."""
    steps = record.data.get("steps", {})
    return {step_id: step["commit"] for step_id, step in steps.items() if isinstance(step, dict) and step.get("commit")}
