"""What the run does around a step's attempts: Wave's step-level on_failure, rework and rejection.

- `rework_only` steps are not planned; they run only when a step's `retry.on_failure: rework` or a
  contract's `on_failure: rework` names them, right after that step failed, on the same clone (so their
  commit lands on the same run branch). When the rework step succeeds, the failed step counts as done,
  "reworked by" it, and the rework step's artifacts stand in for the failed step's of the same name.
  After a contract's rework, the step's contracts are checked again (on those artifacts and the clone as
  the rework left it), up to the contract's `max_retries` rounds, as Wave's validateStepContracts does.
- `retry.on_failure: skip`: when every attempt failed the step is skipped (its dependents too) and the
  run goes on; `continue`: the step failed but the run goes on (Wave's default for optional steps).
- A `rejected` contract: the step is recorded as rejected, every step not started yet is skipped, and
  the run ends as `rejected` (exit 0), as Wave ends it.
"""

from __future__ import annotations

import shutil
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from wave_sandbox.engine import events as ev
from wave_sandbox.engine.contract_assessment import EVENT_OF_RESULT, assess_artifacts
from wave_sandbox.engine.live_contracts import LiveContracts
from wave_sandbox.engine.retry_policy import resolve_retry_policy
from wave_sandbox.engine.run_file import StepStatus
from wave_sandbox.engine.step_execution import StepContext, StepJob, StepOutcome
from wave_sandbox.engine.step_jobs import declared_outputs
from wave_sandbox.sandbox.backend import CollectedFile
from wave_sandbox.spec.models import Step

if TYPE_CHECKING:
    from wave_sandbox.engine.runner import PipelineRun

REWORKING = "reworking"
"""The event state of a failed step whose rework step is about to run (Wave's `reworking`)."""
MAX_REWORK_DEPTH = 3
"""A rework step that fails and names its own rework step may chain this far, no further."""


def runs_in_plan(step: Step) -> bool:
    """Rework-only steps run only when a failure calls them (Wave's findReadySteps skips them)."""
    return not step.rework_only


def continues_after_failure(step: Step) -> bool:
    """A failure of this step does not fail the run: optional, or retry.on_failure skip or continue."""
    return bool(step.optional) or resolve_retry_policy(step).on_failure in ("skip", "continue")


class StepControl:
    """The run's side of failure policy; one per PipelineRun."""

    def __init__(self, run: PipelineRun) -> None:
        self.run = run
        self.rejection: str | None = None
        self._rework_context: dict[str, str] = {}
        self._live: dict[str, tuple[StepJob, StepContext]] = {}
        self.stopping = threading.Event()
        """Set by the runner on Ctrl-C: attempts waiting out a backoff stop, none starts."""

    def prepare(self, job: StepJob, context: StepContext) -> None:
        step = self.run.loaded.pipeline.step(job.step_id)
        job.retry_policy = resolve_retry_policy(step)
        job.same_container_retry = step.retry is None
        job.contract_runner = LiveContracts(self.run, context, job)
        context.stopping = self.stopping
        self._live[job.step_id] = (job, context)
        persona = job.persona
        context.on_event = lambda state, message: self.run.emit(
            state, step_id=job.step_id, persona=persona, message=message
        )
        extra = self._rework_context.pop(job.step_id, None)
        if extra:
            prompt = f"{job.step_description.prompt.rstrip()}\n\n{extra}"
            job.step_description = job.step_description.model_copy(update={"prompt": prompt})

    def record_contracts(self, step_id: str, outcome: StepOutcome) -> None:
        if outcome.contract_results:
            self.run.record.update_step(step_id, contracts=[r.as_record() for r in outcome.contract_results])

    # ----- rework ------------------------------------------------------------------------
    def after_step(self, step_id: str, outcome: StepOutcome, depth: int = 0) -> StepOutcome:
        """Run the rework step a failed step names; after a contract's rework, check the contracts again
        (Wave's rounds: up to the contract's max_retries, default 1)."""
        target = self._rework_target(step_id, outcome)
        if outcome.succeeded or outcome.rejected or target is None or depth >= MAX_REWORK_DEPTH:
            return outcome
        try:
            rework = self.run.loaded.pipeline.step(target)
        except KeyError:
            outcome.message += f"; rework step '{target}' does not exist"
            return outcome
        by_contract, rounds = outcome.rework_step is not None, outcome.rework_rounds
        for _ in range(rounds):
            outcome = self._rework(step_id, outcome, rework, depth)
            if not outcome.succeeded or not by_contract:
                return outcome
            rechecked = self._recheck_contracts(step_id)
            if rechecked is None:
                return outcome
            outcome = rechecked
            if outcome.rejected or outcome.rework_step is None:
                return outcome
        outcome.message = f"contracts still fail after {rounds} rework round(s): {outcome.message}"
        return outcome

    def _recheck_contracts(self, step_id: str) -> StepOutcome | None:
        """The step's contracts on its (stood-in) artifacts and the clone as the rework left it; None when all hold."""
        job, context = self._live[step_id]
        folder = self.run.record.artifacts_folder(step_id)
        collected = [
            CollectedFile(d.path, (folder / d.file_name).read_bytes(), None) if (folder / d.file_name).is_file()
            else CollectedFile(d.path, None, "missing", missing=True)
            for d in job.outputs
        ]
        assessment = assess_artifacts(job, collected, job.contract_runner)
        for result in assessment.results:
            context.on_event(EVENT_OF_RESULT[result.result], result.message())
        self.run.record.update_step(step_id, contracts=[r.as_record() for r in assessment.results])
        if not assessment.problems and not assessment.rejected:
            return None
        return StepOutcome(False, assessment.rejected or "; ".join(assessment.problems), 0,
                           contract_results=assessment.results, rejected=bool(assessment.rejected),
                           rework_step=assessment.rework_step, rework_rounds=assessment.rework_rounds)

    def _rework_target(self, step_id: str, outcome: StepOutcome) -> str | None:
        if outcome.rework_step:
            return outcome.rework_step
        policy = resolve_retry_policy(self.run.loaded.pipeline.step(step_id))
        return policy.rework_step if policy.on_failure == "rework" else None

    def _rework(self, step_id: str, outcome: StepOutcome, rework: Step, depth: int) -> StepOutcome:
        run, persona = self.run, self.run.persona_of(rework.id).name
        run.emit(REWORKING, step_id=step_id, persona=run.persona_of(step_id).name,
                 message=f"rework: executing step {rework.id} after {step_id} failed")
        self._rework_context[rework.id] = (
            f"## Rework: step {step_id} failed\n\nThe step `{step_id}` failed with:\n- {outcome.message}\n\n"
            "Fix what it names; you work on the same checkout the failed step left behind."
        )
        run.record.update_step(rework.id, status=StepStatus.RUNNING, persona=persona, reworks=step_id,
                               started_at=datetime.now(timezone.utc).isoformat())
        run.emit(ev.STEP_STARTED, step_id=rework.id, persona=persona, message=f"Reworking {step_id}")
        reworked = self.after_step(rework.id, run._run_step_once(rework.id), depth + 1)
        self._finish_rework_step(rework.id, persona, reworked)
        if not reworked.succeeded:
            outcome.message = f"{outcome.message}; rework step {rework.id} also failed: {reworked.message}"
            return outcome
        self._stand_in(step_id, rework)
        outcome.succeeded, outcome.message = True, f"reworked by {rework.id}: {reworked.message}"
        outcome.artifacts = reworked.artifacts
        run.record.update_step(step_id, reworked_by=rework.id)
        return outcome

    def _finish_rework_step(self, rework_id: str, persona: str, outcome: StepOutcome) -> None:
        state = StepStatus.COMPLETED if outcome.succeeded else StepStatus.FAILED
        fields = dict(duration_ms=outcome.duration_ms, tokens_in=outcome.tokens_in, tokens_out=outcome.tokens_out,
                      artifacts=outcome.artifacts)
        self.run.record.update_step(rework_id, status=state, summary=outcome.message, **fields)
        self.run.emit(state.value, step_id=rework_id, persona=persona, message=outcome.message, **fields)

    def _stand_in(self, step_id: str, rework: Step) -> None:
        """The rework step's artifacts replace the failed step's of the same name (Wave re-registers them)."""
        record = self.run.record
        failed_outputs = {a.name: a for a in declared_outputs(self.run.loaded.pipeline.step(step_id))}
        for produced in declared_outputs(rework):
            source = record.artifacts_folder(rework.id) / produced.file_name
            if produced.name in failed_outputs and source.is_file():
                target = record.artifacts_folder(step_id) / failed_outputs[produced.name].file_name
                shutil.copyfile(source, target)

    # ----- endings -----------------------------------------------------------------------
    def finish_unsuccessful(self, step_id: str, outcome: StepOutcome, common: dict) -> bool:
        """Record a rejection or a skipped step; True when the runner's failure path must not run."""
        run = self.run
        if outcome.rejected:
            self.rejection = f"rejected at step {step_id}: {outcome.message}"
            run.plan.states[step_id] = StepStatus.SKIPPED
            run.record.update_step(step_id, status=StepStatus.REJECTED)
            run.emit(StepStatus.REJECTED.value, **common)
            for pending in run.plan.skip_all_pending():
                run._emit_skipped(pending, f"the run was rejected at {step_id}")
            return True
        if resolve_retry_policy(run.loaded.pipeline.step(step_id)).on_failure != "skip":
            return False
        run.plan.states[step_id] = StepStatus.SKIPPED
        reason = f"step skipped after its failed attempts (on_failure: skip): {outcome.message}"
        run.record.update_step(step_id, status=StepStatus.SKIPPED, summary=reason)
        run.emit(ev.STEP_SKIPPED, **{**common, "message": reason})
        for skipped in run.plan.skip_dependents_of(step_id):
            run._emit_skipped(skipped, f"needs {step_id}, which was skipped")
        return True
