"""Steps run side by side: a delayed turn holds up only its own step, and stop() ends waits at once."""

from __future__ import annotations

import threading
import time

import anthropic
import pytest

from .conftest import sdk_client, user_says

DELAYED = """\
steps:
  slow-a: [{delay_s: 0.8, content: [{type: text, text: "a"}]}]
  slow-b: [{delay_s: 0.8, content: [{type: text, text: "b"}]}]
  fast: [[{type: text, text: "fast"}]]
  stuck: [{delay_s: 60, content: [{type: text, text: "never"}]}]
"""


def ask_in_thread(client, results: dict, name: str, stream: bool = False) -> threading.Thread:
    def ask() -> None:
        started = time.monotonic()
        try:
            if stream:
                with client.messages.stream(model="m", max_tokens=8, messages=user_says("hi")) as events:
                    text = events.get_final_message().content[0].text
            else:
                text = client.messages.create(model="m", max_tokens=8, messages=user_says("hi")).content[0].text
            results[name] = (text, time.monotonic() - started)
        except anthropic.APIError as exc:
            results[name] = (exc, time.monotonic() - started)

    thread = threading.Thread(target=ask)
    thread.start()
    return thread


def test_delayed_turns_of_different_steps_wait_side_by_side_without_blocking_others(start_gateway, tmp_path):
    gateway = start_gateway(DELAYED)
    clients = {
        step: sdk_client(gateway, gateway.register_step(step, tmp_path / f"{step}.jsonl")) for step in ("slow-a", "slow-b", "fast")
    }
    results: dict = {}
    started = time.monotonic()

    threads = [
        ask_in_thread(clients["slow-a"], results, "slow-a"),
        ask_in_thread(clients["slow-b"], results, "slow-b", stream=True),
    ]
    time.sleep(0.1)
    threads.append(ask_in_thread(clients["fast"], results, "fast"))
    for thread in threads:
        thread.join(5)
    elapsed = time.monotonic() - started

    assert results["fast"][0] == "fast" and results["fast"][1] < 0.5
    assert results["slow-a"][0] == "a" and results["slow-b"][0] == "b"
    assert 0.8 <= results["slow-a"][1] and 0.8 <= results["slow-b"][1]
    assert elapsed < 1.5, f"two 0.8 s delays took {elapsed:.2f} s together: they did not overlap"


def test_stop_ends_a_turn_that_is_waiting_and_joins_promptly(start_gateway, tmp_path):
    gateway = start_gateway(DELAYED)
    client = sdk_client(gateway, gateway.register_step("stuck", tmp_path / "stuck.jsonl"))
    results: dict = {}
    thread = ask_in_thread(client, results, "stuck")
    time.sleep(0.2)

    started = time.monotonic()
    gateway.stop()
    thread.join(5)

    assert time.monotonic() - started < 1.0
    outcome, _ = results["stuck"]
    assert isinstance(outcome, anthropic.APIError)  # a 503 "stopping" or the closed connection
    with pytest.raises(anthropic.APIConnectionError):
        client.messages.create(model="m", max_tokens=8, messages=user_says("hi"))
