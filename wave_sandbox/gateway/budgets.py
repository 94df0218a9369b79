"""Budgets per step and per run, and the ledger that admits requests against them.

Every authenticated request is counted (``count_request``), refused ones included, so a step cannot
flood the gateway with requests it knows will be refused. A request that goes to the model then
*reserves* the most tokens it can use (its input estimate plus its ``max_tokens``) against the step's
and the run's token budgets before it leaves; the answer settles the reservation with the real usage.
So concurrent requests can never be admitted past a token budget together: each sees the tokens the
others hold. A step refused once stays refused: its failure message is kept for the runner
(``Gateway.step_failure``). The gateway can also stop a step or the whole run for another reason
(a transcript cap reached) with ``fail_step`` and ``stop_run``.

A cost budget (``max_cost_usd``, from ``--max-cost``) works the same way in dollars: a request holds
the most it can cost (every input token at the dearest input price, plus max_tokens of output) and
the answer settles it with what its tokens really cost.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace

from wave_sandbox.gateway.prices import format_usd
from wave_sandbox.gateway.usage import Usage

__all__ = ["Budget", "BudgetLedger", "Reservation"]


@dataclass(frozen=True)
class Budget:
    """Limits on what a step or a run may spend; None means no limit."""

    max_requests: int | None = None
    max_tokens: int | None = None
    max_seconds: float | None = None
    max_cost_usd: float | None = None


@dataclass
class _Account:
    """Mutable counters for one step or the whole run (only touched under the ledger's lock)."""

    budget: Budget
    usage: Usage = Usage()
    held_tokens: int = 0
    held_cost_usd: float = 0.0
    opened_at: float = field(default_factory=time.monotonic)
    failure: str | None = None

    def overrun(self, owner: str) -> str | None:
        """Why ``owner`` may not go on, counting the request just made, or None when it may."""
        budget, usage = self.budget, self.usage
        if budget.max_requests is not None and usage.requests > budget.max_requests:
            return f"{owner} went over its budget of {budget.max_requests} requests"
        if budget.max_tokens is not None and usage.total_tokens >= budget.max_tokens:
            return f"{owner} went over its budget of {budget.max_tokens} tokens (used {usage.total_tokens})"
        if budget.max_cost_usd is not None and usage.cost_usd >= budget.max_cost_usd:
            spent = format_usd(usage.cost_usd)
            return f"{owner} went over its cost budget of {format_usd(budget.max_cost_usd)} (spent {spent})"
        elapsed = time.monotonic() - self.opened_at
        if budget.max_seconds is not None and elapsed > budget.max_seconds:
            return f"{owner} went over its budget of {budget.max_seconds:g} seconds"
        return None

    def token_shortfall(self, owner: str, tokens: int) -> str | None:
        """Why ``owner`` cannot hold ``tokens`` more, or None when they fit beside what is used and held."""
        limit = self.budget.max_tokens
        if limit is None or self.usage.total_tokens + self.held_tokens + tokens <= limit:
            return None
        return (
            f"{owner} would go over its budget of {limit} tokens: {self.usage.total_tokens} used, "
            f"{self.held_tokens} held by requests in flight, and this request may use up to {tokens}"
        )


    def cost_shortfall(self, owner: str, cost_usd: float) -> str | None:
        """Why ``owner`` cannot hold ``cost_usd`` more, or None when it fits beside what is spent and held."""
        limit = self.budget.max_cost_usd
        if limit is None or self.usage.cost_usd + self.held_cost_usd + cost_usd <= limit:
            return None
        return (
            f"{owner} would go over its cost budget of {format_usd(limit)}: {format_usd(self.usage.cost_usd)} spent, "
            f"{format_usd(self.held_cost_usd)} held by requests in flight, and this request may cost up to "
            f"{format_usd(cost_usd)}"
        )


@dataclass
class Reservation:
    """Tokens (and dollars) one admitted request holds until its answer settles them."""

    step_id: str
    tokens: int
    settled: bool = False
    cost_usd: float = 0.0


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

    def count_request(self, step_id: str) -> str | None:
        """Count one request of ``step_id`` (always), and return why it may not go on (remembered), or None."""
        with self._lock:
            account = self._steps[step_id]
            one_request = Usage(requests=1)
            account.usage += one_request
            self._run.usage += one_request
            return self._refuse(step_id, account, account.failure or self._find_overrun(step_id, account))

    def reserve(self, step_id: str, tokens: int, cost_usd: float = 0.0) -> Reservation | str:
        """Hold ``tokens`` and ``cost_usd`` against the step's and the run's budgets, or say why they do not fit."""
        with self._lock:
            account = self._steps[step_id]
            shortfall = (account.failure or account.token_shortfall(f"step {step_id}", tokens)
                         or account.cost_shortfall(f"step {step_id}", cost_usd))  # fmt: skip
            run_shortfall = (self._run.failure or self._run.token_shortfall("the run", tokens)
                             or self._run.cost_shortfall("the run", cost_usd))  # fmt: skip
            if shortfall is None and run_shortfall is not None:
                shortfall = f"step {step_id} was stopped: {run_shortfall}"
            if shortfall is not None:
                return self._refuse(step_id, account, shortfall) or shortfall
            for holder in (account, self._run):
                holder.held_tokens += tokens
                holder.held_cost_usd += cost_usd
            return Reservation(step_id, tokens, cost_usd=cost_usd)

    def limits_cost(self, step_id: str) -> bool:
        """Whether a cost budget binds the step or the run (then an unpriced model may not be used)."""
        with self._lock:
            step = self._steps.get(step_id)
            budgets = [self._run.budget] + ([step.budget] if step is not None else [])
            return any(budget.max_cost_usd is not None for budget in budgets)

    def settle(self, reservation: Reservation, tokens: Usage) -> None:
        """Release what ``reservation`` held and add the tokens really used (only the first call counts)."""
        tokens_only = replace(tokens, requests=0)
        with self._lock:
            if reservation.settled:
                return
            reservation.settled = True
            account = self._steps[reservation.step_id]
            for holder in (account, self._run):
                holder.held_tokens -= reservation.tokens
                holder.held_cost_usd -= reservation.cost_usd
                holder.usage += tokens_only

    def fail_step(self, step_id: str, message: str) -> None:
        """Stop ``step_id`` for good with ``message`` (kept if it already failed)."""
        with self._lock:
            account = self._steps.get(step_id)
            if account is not None and account.failure is None:
                account.failure = message

    def stop_run(self, message: str) -> None:
        """Refuse every later request of every step with ``message``."""
        with self._lock:
            self._run.failure = self._run.failure or message

    def _find_overrun(self, step_id: str, account: _Account) -> str | None:
        step_overrun = account.overrun(f"step {step_id}")
        if step_overrun is not None:
            return step_overrun
        run_overrun = self._run.failure or self._run.overrun("the run")
        return None if run_overrun is None else f"step {step_id} was stopped: {run_overrun}"

    @staticmethod
    def _refuse(step_id: str, account: _Account, refusal: str | None) -> str | None:
        if refusal is not None and account.failure is None:
            account.failure = refusal
        return refusal

    def held_tokens(self, step_id: str) -> int:
        """Tokens the step's requests in flight hold now."""
        with self._lock:
            account = self._steps.get(step_id)
            return 0 if account is None else account.held_tokens

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
        """The message of the budget or cap that stopped the step, or None."""
        with self._lock:
            account = self._steps.get(step_id)
            return None if account is None else account.failure
