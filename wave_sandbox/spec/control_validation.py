"""`validate`'s checks of a step's failure control: its `retry:` block and its rework steps.

Wave's RetryConfig.Validate (a known policy, backoff and on_failure; rework needs rework_step and
rework_step needs rework), plus what wave-sandbox adds: a rework step must exist, must not be the step
itself, and a `rework_only` step nothing reworks into is reported (it would never run).
"""

from __future__ import annotations

from wave_sandbox.spec.retry_rules import retry_problems


def check_step_control(check, indexed) -> None:
    step = indexed.step
    ids = {other.step.id for other in check.steps}
    if step.retry is not None:
        for problem in retry_problems(step.retry):
            check.add(indexed.path("retry"), problem)
        target = step.retry.rework_step
        if target and target not in ids:
            check.add(indexed.path("retry", "rework_step"), f"rework step '{target}' is not a step of this pipeline",
                      indexed.path("retry"))
        elif target and target == step.id:
            check.add(indexed.path("retry", "rework_step"), "a step cannot be its own rework step", indexed.path("retry"))
    for place, target in _contract_rework_targets(step):
        if target not in ids:
            check.add(indexed.path(*place), f"rework step '{target}' is not a step of this pipeline")


def _contract_rework_targets(step) -> list[tuple[tuple, str]]:
    handover = step.handover
    if handover is None:
        return []
    if handover.contracts:
        places = [(("handover", "contracts", i, "rework_step"), c) for i, c in enumerate(handover.contracts)]
    else:
        places = [(("handover", "contract", "rework_step"), handover.contract)] if handover.contract else []
    return [(place, c.rework_step) for place, c in places if isinstance(c.rework_step, str) and c.rework_step]


def reviewer_personas(step) -> list[str]:
    """The personas the step's agent_review contracts name (the run loads them beside the steps')."""
    handover = step.handover
    contracts = handover.effective_contracts() if handover is not None else []
    return [c.persona for c in contracts if c.type == "agent_review" and isinstance(c.persona, str)]
