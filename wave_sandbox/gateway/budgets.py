"""Budgets per step and per run, and the ledger that admits requests against them.

A request is admitted before it reaches the upstream, so a request budget is never exceeded even by
concurrent requests. Tokens are only known once a response is in, so a token budget stops the first
request after the budget is used up. A step refused once stays refused: its failure message is kept
for the runner (``Gateway.step_failure``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from wave_sandbox.gateway.usage import Usage

__all__ = ["Budget", "BudgetLedger"]


@dataclass(frozen=True)
class Budget:
    """Limits on what a step or a run may spend; None means no limit."""

    max_requests: int | None = None
    max_tokens: int | None = None
    max_seconds: float | None = None


@dataclass
class _Account:
    """Mutable counters for one step or the whole run (only touched under the ledger's lock)."""

    budget: Budget
    usage: Usage = Usage()
    opened_at: float = field(default_factory=time.monotonic)
    failure: str | None = None

    def overrun(self, owner: str) -> str | None:
        """Why ``owner`` may not make one more request, or None when it may."""
        budget, usage = self.budget, self.usage
        if budget.max_requests is not None and usage.requests >= budget.max_requests:
            return f"{owner} went over its budget of {budget.max_requests} requests"
        if budget.max_tokens is not None and usage.total_tokens >= budget.max_tokens:
            return f"{owner} went over its budget of {budget.max_tokens} tokens (used {usage.total_tokens})"
        elapsed = time.monotonic() - self.opened_at
        if budget.max_seconds is not None and elapsed > budget.max_seconds:
            return f"{owner} went over its budget of {budget.max_seconds:g} seconds"
        return None


class BudgetLedger:
    """Thread-safe usage counters for every step of a run, checked against their budgets."""

    def __init__(self, run_budget: Budget) -> None:
        self._lock = threading.Lock()
        self._run = _Account(run_budget)
        self._steps: dict[str, _Account] = {}

    def open_step(self, step_id: str, budget: Budget) -> None:
        """Start (or, on re-registration, re-budget) a step; usage so far is kept."""
        with self._lock:
            account = self._steps.get(step_id)
            if account is None:
                self._steps[step_id] = _Account(budget)
            else:
                account.budget = budget

    def admit(self, step_id: str) -> str | None:
        """Count one request of ``step_id``, or return why it is refused (and remember that)."""
        with self._lock:
            account = self._steps[step_id]
            refusal = account.failure or self._find_overrun(step_id, account)
            if refusal is not None:
                account.failure = refusal
                return refusal
            one_request = Usage(requests=1)
            account.usage += one_request
            self._run.usage += one_request
            return None

    def _find_overrun(self, step_id: str, account: _Account) -> str | None:
        step_overrun = account.overrun(f"step {step_id}")
        if step_overrun is not None:
            return step_overrun
        run_overrun = self._run.overrun("the run")
        return None if run_overrun is None else f"step {step_id} was stopped: {run_overrun}"

    def record_tokens(self, step_id: str, tokens: Usage) -> None:
        """Add the tokens of one answered request (its request was counted by ``admit``)."""
        tokens_only = Usage(input_tokens=tokens.input_tokens, output_tokens=tokens.output_tokens)
        with self._lock:
            self._steps[step_id].usage += tokens_only
            self._run.usage += tokens_only

    def usage(self, step_id: str) -> Usage:
        """What the step has used so far; zero for a step never registered."""
        with self._lock:
            account = self._steps.get(step_id)
            return Usage() if account is None else account.usage

    def run_usage(self) -> Usage:
        """What all steps of the run have used so far."""
        with self._lock:
            return self._run.usage

    def failure(self, step_id: str) -> str | None:
        """The message of the budget the step went over, or None."""
        with self._lock:
            account = self._steps.get(step_id)
            return None if account is None else account.failure
