"""A step's retry policy, resolved as Wave resolves it (`RetryConfig.ResolvePolicy`, `ComputeDelay`).

Wave's named policies fill what the step leaves unset; explicit values win. Each attempt after the first
is a fresh container told the earlier attempts' errors; attempts share the step's gateway budget, so a
retry storm ends where the budget ends. When every attempt failed, the step's `on_failure` decides:
`fail` (the run fails), `skip` (the step is skipped, the run goes on), `continue` (the step failed, the
run goes on) or `rework` (the named rework step runs on the same clone and stands in for it).

A step without a `retry:` block keeps wave-sandbox's rule (DESIGN.md): one attempt, whose contract
failures go back to the agent once in the same container.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wave_sandbox.spec.models import Step
from wave_sandbox.spec.retry_rules import MAX_ATTEMPTS_CEILING, POLICIES

DEFAULT_MAX_DELAY_S = 30.0
MODEL_TIERS = ("cheapest", "balanced", "strongest")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


@dataclass(frozen=True)
class RetryPolicy:
    """How often a step runs and what happens when every attempt failed."""

    max_attempts: int = 1
    backoff: str = "linear"
    base_delay_s: float = 1.0
    max_delay_s: float = DEFAULT_MAX_DELAY_S
    on_failure: str = "fail"
    rework_step: str | None = None
    escalate: bool = True
    declared: bool = False
    """The step has a `retry:` block (Wave's semantics); False keeps our one in-container retry."""

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before `attempt` (2-based: the first retry), as Wave's ComputeDelay."""
        if self.backoff == "fixed":
            delay = self.base_delay_s
        elif self.backoff == "exponential":
            delay = self.base_delay_s * (2 ** (attempt - 1))
        else:
            delay = self.base_delay_s * attempt
        return min(delay, self.max_delay_s)


def parse_duration(text: object, default: float) -> float:
    """Go's duration strings as Wave writes them (`200ms`, `2s`, `1m`); `default` when unset or unreadable."""
    if text is None or text == "":
        return default
    match = _DURATION.match(str(text))
    if not match:
        return default
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def resolve_retry_policy(step: Step) -> RetryPolicy:
    """The step's policy: its `retry:` block over the named preset; Wave's optional steps continue."""
    retry = step.retry
    if retry is None:
        return RetryPolicy(on_failure="continue" if step.optional else "fail")
    attempts, backoff, base, top = POLICIES.get(retry.policy or "", (1, "linear", 1.0, DEFAULT_MAX_DELAY_S))
    on_failure = retry.on_failure or ("continue" if step.optional else "fail")
    return RetryPolicy(
        max_attempts=max(1, min(retry.max_attempts or attempts, MAX_ATTEMPTS_CEILING)),
        backoff=retry.backoff or backoff,
        base_delay_s=parse_duration(retry.base_delay, base),
        max_delay_s=parse_duration(retry.max_delay, top),
        on_failure=on_failure,
        rework_step=retry.rework_step,
        escalate=not retry.no_escalate,
        declared=True,
    )


def escalated_model(model: str, attempt: int, policy: RetryPolicy) -> str:
    """Wave's tier escalation: each retry resolves one tier stronger; a literal model id never changes."""
    if not policy.escalate or model not in MODEL_TIERS or attempt <= 1:
        return model
    return MODEL_TIERS[min(MODEL_TIERS.index(model) + attempt - 1, len(MODEL_TIERS) - 1)]
