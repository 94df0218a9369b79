"""The budget ledger: requests counted against step and run budgets, tokens reserved then settled, failures kept."""

from __future__ import annotations

import threading
import time

from wave_sandbox.gateway.budgets import Budget, BudgetLedger, Reservation
from wave_sandbox.gateway.usage import StreamUsage, Usage, usage_from_message_json


def test_a_step_may_make_exactly_its_budget_of_requests_then_is_refused_for_good():
    ledger = BudgetLedger(Budget())
    ledger.open_step("triage", Budget(max_requests=2))

    admitted = [ledger.count_request("triage") for _ in range(2)]
    refusal = ledger.count_request("triage")
    refused_again = ledger.count_request("triage")

    assert admitted == [None, None]
    assert refusal == refused_again == "step triage went over its budget of 2 requests"
    assert ledger.failure("triage") == refusal
    assert ledger.usage("triage") == Usage(requests=4)  # refused requests count too


def test_concurrent_requests_never_exceed_the_budget():
    ledger = BudgetLedger(Budget())
    ledger.open_step("s", Budget(max_requests=5))
    results: list[str | None] = []
    threads = [threading.Thread(target=lambda: results.append(ledger.count_request("s"))) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results.count(None) == 5
    assert ledger.usage("s").requests == 40


def test_a_token_budget_stops_the_first_request_after_it_is_used_up():
    ledger = BudgetLedger(Budget())
    ledger.open_step("s", Budget(max_tokens=200))
    assert ledger.count_request("s") is None
    reservation = ledger.reserve("s", 150)
    assert isinstance(reservation, Reservation)
    ledger.settle(reservation, Usage(input_tokens=180, output_tokens=30))  # more than reserved: still counted
    ledger.settle(reservation, Usage(input_tokens=180, output_tokens=30))  # only the first settlement counts

    assert ledger.usage("s").total_tokens == 210 and ledger.held_tokens("s") == 0
    assert ledger.count_request("s") == "step s went over its budget of 200 tokens (used 210)"


def test_reservations_in_flight_hold_tokens_so_concurrent_requests_cannot_overshoot():
    ledger = BudgetLedger(Budget(max_tokens=1000))
    ledger.open_step("s", Budget(max_tokens=500))
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(ledger.reserve("s", 120))) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    held = [r for r in results if isinstance(r, Reservation)]
    assert len(held) == 4 and ledger.held_tokens("s") == 480
    refusal = next(r for r in results if isinstance(r, str))
    assert refusal.startswith("step s would go over its budget of 500 tokens: 0 used, ")
    assert ledger.failure("s") == refusal


def test_a_reservation_that_does_not_fit_the_run_names_the_run():
    ledger = BudgetLedger(Budget(max_tokens=100))
    ledger.open_step("a", Budget())
    ledger.open_step("b", Budget())
    assert isinstance(ledger.reserve("a", 80), Reservation)

    refusal = ledger.reserve("b", 30)

    assert refusal == (
        "step b was stopped: the run would go over its budget of 100 tokens: 0 used, 80 held by requests in "
        "flight, and this request may use up to 30"
    )


def test_a_failed_step_and_a_stopped_run_refuse_every_later_request():
    ledger = BudgetLedger(Budget())
    ledger.open_step("a", Budget())
    ledger.open_step("b", Budget())
    ledger.fail_step("a", "step a: its transcript reached its cap")
    ledger.stop_run("the run's transcripts reached their cap")

    assert ledger.count_request("a") == "step a: its transcript reached its cap"
    assert ledger.count_request("b") == "step b was stopped: the run's transcripts reached their cap"


def test_the_run_budget_covers_all_steps_and_names_the_step_it_stopped():
    ledger = BudgetLedger(Budget(max_requests=3))
    ledger.open_step("a", Budget())
    ledger.open_step("b", Budget())

    outcomes = [ledger.count_request(step) for step in ("a", "b", "a", "b")]

    assert outcomes[:3] == [None, None, None]
    assert outcomes[3] == "step b was stopped: the run went over its budget of 3 requests"
    assert ledger.failure("a") is None
    assert ledger.run_usage() == Usage(requests=4)


def test_a_wall_time_budget_refuses_requests_once_it_has_passed():
    ledger = BudgetLedger(Budget())
    ledger.open_step("s", Budget(max_seconds=0.05))
    assert ledger.count_request("s") is None
    time.sleep(0.07)

    assert ledger.count_request("s") == "step s went over its budget of 0.05 seconds"


def test_usage_is_read_from_json_and_from_cumulative_stream_events():
    body = {"usage": {"input_tokens": 10, "cache_read_input_tokens": 5, "output_tokens": 7}}
    stream = StreamUsage()
    stream.observe({"type": "message_start", "message": {"usage": {"input_tokens": 12, "output_tokens": 1}}})
    stream.observe({"type": "message_delta", "usage": {"output_tokens": 9}})
    stream.observe({"type": "message_delta", "usage": {"output_tokens": 20, "input_tokens": None}})

    assert usage_from_message_json(body) == Usage(input_tokens=15, output_tokens=7, cache_read_input_tokens=5)
    assert usage_from_message_json({"type": "error", "error": {}}) == Usage()
    assert usage_from_message_json({"usage": {"input_tokens": "lots", "output_tokens": -3}}) == Usage()
    assert stream.total() == Usage(input_tokens=12, output_tokens=20)
