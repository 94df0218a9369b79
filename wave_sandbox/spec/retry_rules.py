"""Wave's step retry rules as `validate` checks them (`RetryConfig.Validate`, `ResolvePolicy`'s presets)."""

from __future__ import annotations

from wave_sandbox.spec.models import Retry

POLICIES: dict[str, tuple[int, str, float, float]] = {
    "none": (1, "fixed", 0.0, 0.0),
    "standard": (3, "exponential", 1.0, 30.0),
    "aggressive": (5, "exponential", 0.2, 30.0),
    "patient": (3, "exponential", 5.0, 90.0),
}
"""Wave's presets: max attempts, backoff, base delay (s), max delay (s)."""
BACKOFFS = ("fixed", "linear", "exponential")
STEP_ON_FAILURE = ("fail", "skip", "continue", "rework")
MAX_ATTEMPTS_CEILING = 10
"""However many attempts a pipeline asks for, a step runs at most this many containers."""


def retry_problems(retry: Retry) -> list[str]:
    """What Wave's RetryConfig.Validate refuses, in its words."""
    problems = []
    if retry.policy and retry.policy not in POLICIES:
        problems.append(f"unknown retry policy '{retry.policy}' (valid: {', '.join(POLICIES)})")
    if retry.backoff and retry.backoff not in BACKOFFS:
        problems.append(f"unknown backoff '{retry.backoff}' (valid: {', '.join(BACKOFFS)})")
    if retry.on_failure and retry.on_failure not in STEP_ON_FAILURE:
        problems.append(f"unknown on_failure '{retry.on_failure}' (valid: {', '.join(STEP_ON_FAILURE)})")
    if retry.on_failure == "rework" and not retry.rework_step:
        problems.append("rework_step is required when on_failure is 'rework'")
    if retry.rework_step and retry.on_failure != "rework":
        problems.append(f"rework_step is set but on_failure is '{retry.on_failure or 'fail'}' (must be 'rework')")
    if retry.max_attempts is not None and retry.max_attempts > MAX_ATTEMPTS_CEILING:
        problems.append(f"max_attempts {retry.max_attempts} is over wave-sandbox's ceiling of {MAX_ATTEMPTS_CEILING}")
    return problems
