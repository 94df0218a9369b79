"""Run a step's attempts as Wave's executor does (`executeStep`'s retry loop), each in a fresh container.

Attempt n+1 starts after the backoff of the step's policy, in a new container, with a prompt that lists
every earlier attempt's errors (Wave always injects the failure context now). The attempts run under
the same step id, so the gateway counts them against the same step budget (and the run's): a retry
storm ends at the budget with the budget's own message, and no attempt follows a budget failure.
Each attempt is kept in run.json (`attempts`), its agent log appended to the step's, its exchanges
appended to the step's transcript.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timezone

from wave_sandbox.engine.retry_policy import escalated_model
from wave_sandbox.engine.step_execution import StepContext, StepJob, StepOutcome, execute_attempt
from wave_sandbox.text_safety import one_printable_line

RETRYING = "retrying"
"""The event state of a step about to run another attempt (Wave's `retrying`)."""
MAX_ERRORS_PER_ATTEMPT = 20


def execute_step(context: StepContext, job: StepJob) -> StepOutcome:
    """Every attempt the step's policy allows, until one succeeds or no further attempt can help."""
    policy = job.retry_policy
    earlier: list[tuple[int, list[str]]] = []
    attempts: list[dict] = []
    started = time.monotonic()
    outcome = StepOutcome(False, "no attempt ran", 0)
    for number in range(1, policy.max_attempts + 1):
        if number > 1:
            _announce_retry(context, job, number, outcome)
            if context.stopping.wait(policy.delay_before(number)):
                break  # interrupted during the backoff: the run is stopping, no new container
        began = datetime.now(timezone.utc).isoformat()
        outcome = execute_attempt(context, _job_for_attempt(job, number, earlier))
        attempts.append(_attempt_record(number, began, outcome))
        if policy.declared:
            context.record.update_step(job.step_id, attempts=attempts)
        if outcome.succeeded or outcome.final or outcome.rejected:
            break
        earlier.append((number, _attempt_errors(outcome)))
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    return outcome


def _announce_retry(context: StepContext, job: StepJob, number: int, previous: StepOutcome) -> None:
    reason = one_printable_line(previous.message, 200)
    context.on_event(RETRYING, f"attempt {number}/{job.retry_policy.max_attempts} after: {reason}")


def _job_for_attempt(job: StepJob, number: int, earlier: list[tuple[int, list[str]]]) -> StepJob:
    if number == 1:
        return job
    description = job.step_description
    model = escalated_model(description.model, number, job.retry_policy)
    prompt = build_attempt_prompt(description.prompt, number, job.retry_policy.max_attempts, earlier)
    retried = description.model_copy(update={"prompt": prompt, "model": model})
    return dataclasses.replace(job, step_description=retried, attempt=number)


def build_attempt_prompt(first_prompt: str, number: int, total: int, earlier: list[tuple[int, list[str]]]) -> str:
    """The step's prompt, then what went wrong in each earlier attempt (each ran in its own container)."""
    lines = [first_prompt.rstrip(), "", f"## This is attempt {number} of {total}; the earlier attempts failed", ""]
    for attempt, errors in earlier:
        lines.append(f"Attempt {attempt}:")
        lines += [f"- {error}" for error in errors[:MAX_ERRORS_PER_ATTEMPT]]
    lines += ["", "This is a fresh container: nothing the earlier attempts wrote in /workspace is left. Do the "
              "step again, avoiding what the errors name, then answer without calling a tool (the first line "
              "of that answer is the step's summary).", ""]
    return "\n".join(lines)


def _attempt_errors(outcome: StepOutcome) -> list[str]:
    failed = [error for result in outcome.contract_results for error in result.errors if result.result == "failed"]
    return failed or [outcome.message]


def _attempt_record(number: int, began: str, outcome: StepOutcome) -> dict:
    return {
        "attempt": number,
        "started_at": began,
        "succeeded": outcome.succeeded,
        "message": outcome.message,
        "duration_ms": outcome.duration_ms,
        "contracts": [result.as_record() for result in outcome.contract_results],
    }
