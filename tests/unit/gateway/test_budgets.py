"""The budget ledger: requests admitted against step and run budgets, tokens summed, failures kept."""

from __future__ import annotations

import threading
import time

from wave_sandbox.gateway.budgets import Budget, BudgetLedger
from wave_sandbox.gateway.usage import StreamUsage, Usage, usage_from_message_json


def test_a_step_may_make_exactly_its_budget_of_requests_then_is_refused_for_good():
    ledger = BudgetLedger(Budget())
    ledger.open_step("triage", Budget(max_requests=2))

    admitted = [ledger.admit("triage") for _ in range(2)]
    refusal = ledger.admit("triage")

    assert admitted == [None, None]
    assert refusal == "step triage went over its budget of 2 requests"
    assert ledger.failure("triage") == refusal
    assert ledger.usage("triage") == Usage(requests=2)


def test_concurrent_requests_never_exceed_the_budget():
    ledger = BudgetLedger(Budget())
    ledger.open_step("s", Budget(max_requests=5))
    results: list[str | None] = []
    threads = [threading.Thread(target=lambda: results.append(ledger.admit("s"))) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results.count(None) == 5
    assert ledger.usage("s").requests == 5


def test_a_token_budget_stops_the_first_request_after_it_is_used_up():
    ledger = BudgetLedger(Budget())
    ledger.open_step("s", Budget(max_tokens=100))
    assert ledger.admit("s") is None
    ledger.record_tokens("s", Usage(input_tokens=80, output_tokens=30))

    assert ledger.admit("s") == "step s went over its budget of 100 tokens (used 110)"


def test_the_run_budget_covers_all_steps_and_names_the_step_it_stopped():
    ledger = BudgetLedger(Budget(max_requests=3))
    ledger.open_step("a", Budget())
    ledger.open_step("b", Budget())

    outcomes = [ledger.admit("a"), ledger.admit("b"), ledger.admit("a"), ledger.admit("b")]

    assert outcomes[:3] == [None, None, None]
    assert outcomes[3] == "step b was stopped: the run went over its budget of 3 requests"
    assert ledger.failure("a") is None
    assert ledger.run_usage() == Usage(requests=3)


def test_a_wall_time_budget_refuses_requests_once_it_has_passed():
    ledger = BudgetLedger(Budget())
    ledger.open_step("s", Budget(max_seconds=0.05))
    assert ledger.admit("s") is None
    time.sleep(0.07)

    assert ledger.admit("s") == "step s went over its budget of 0.05 seconds"


def test_usage_is_read_from_json_and_from_cumulative_stream_events():
    body = {"usage": {"input_tokens": 10, "cache_read_input_tokens": 5, "output_tokens": 7}}
    stream = StreamUsage()
    stream.observe({"type": "message_start", "message": {"usage": {"input_tokens": 12, "output_tokens": 1}}})
    stream.observe({"type": "message_delta", "usage": {"output_tokens": 9}})
    stream.observe({"type": "message_delta", "usage": {"output_tokens": 20, "input_tokens": None}})

    assert usage_from_message_json(body) == Usage(input_tokens=15, output_tokens=7)
    assert usage_from_message_json({"type": "error", "error": {}}) == Usage()
    assert usage_from_message_json({"usage": {"input_tokens": "lots", "output_tokens": -3}}) == Usage()
    assert stream.total() == Usage(input_tokens=12, output_tokens=20)
