"""The provider's prompt-cache rules, the price table, cost budgets, and the scripted model reporting
cache tokens and "prompt is too long" through the real SDK."""

from __future__ import annotations

import json

import anthropic
import pytest

from wave_sandbox.agent.cache_breakpoints import with_cache_breakpoints
from wave_sandbox.gateway import Budget
from wave_sandbox.gateway.budgets import BudgetLedger
from wave_sandbox.gateway.prices import ModelPrice, PriceTable
from wave_sandbox.gateway.prompt_cache import PromptCache, prefix_points
from wave_sandbox.gateway.usage import Usage

from .conftest import BASH_TOOL, sdk_client, user_says

SYSTEM = "You are the navigator. " * 300  # about 1,700 tokens: over Sonnet's 1,024 minimum


def agent_request(messages: list[dict], model: str = "claude-sonnet-4-5", system: str = SYSTEM) -> dict:
    return with_cache_breakpoints({"model": model, "max_tokens": 512, "system": system, "tools": [BASH_TOOL],
                                   "messages": messages})  # fmt: skip


def conversation(turns: int) -> list[list[dict]]:
    """The messages of each request of a tool loop that reads a ~500-token result per turn."""
    messages, requests = [{"role": "user", "content": "Find the bug"}], []
    for turn in range(turns):
        requests.append(list(messages))
        call = {"type": "tool_use", "id": f"toolu_{turn}", "name": "bash", "input": {"command": f"cat f{turn}"}}
        messages = [*messages, {"role": "assistant", "content": [call]},
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"toolu_{turn}",
                                                  "content": f"line {turn} " * 250}]}]  # fmt: skip
    return requests


def test_each_turn_reads_the_previous_turns_prompt_and_writes_only_what_is_new():
    cache = PromptCache(clock=lambda: 0.0)
    counts = [cache.account(agent_request(messages)) for messages in conversation(4)]
    total = [prefix_points(agent_request(messages))[-1].tokens for messages in conversation(4)]
    assert counts[0].cache_read_input_tokens == 0 and counts[0].cache_creation_input_tokens == total[0]
    for turn in range(1, 4):
        assert counts[turn].cache_read_input_tokens == total[turn - 1]
        assert counts[turn].cache_creation_input_tokens == total[turn] - total[turn - 1]
        assert counts[turn].input_tokens == 0 and counts[turn].total == total[turn]


def test_a_prefix_under_the_minimum_is_not_cached_and_models_have_their_own_minimum():
    short = [{"role": "user", "content": "hi"}]
    cache = PromptCache(clock=lambda: 0.0)
    assert cache.account(agent_request(short, system="Short.")).cache_creation_input_tokens == 0
    haiku = agent_request(short, model="claude-haiku-4-5")  # about 1,700 tokens: under Haiku 4.5's 4,096
    assert cache.account(haiku).cache_creation_input_tokens == 0
    assert cache.account(agent_request(short)).cache_creation_input_tokens > 1024


def test_entries_expire_after_five_minutes_unless_read():
    now = [0.0]
    cache = PromptCache(clock=lambda: now[0])
    request = agent_request([{"role": "user", "content": "hi"}])
    cache.account(request)
    now[0] = 299.0
    assert cache.account(request).cache_read_input_tokens > 0  # the read refreshes the entry
    now[0] = 598.0
    assert cache.account(request).cache_read_input_tokens > 0
    now[0] = 899.0
    assert cache.account(request).cache_read_input_tokens == 0


def test_a_request_without_breakpoints_reads_and_writes_nothing():
    cache = PromptCache(clock=lambda: 0.0)
    plain = {"model": "claude-sonnet-4-5", "max_tokens": 9, "system": SYSTEM, "messages": user_says("hi")}
    cache.account(agent_request(user_says("hi")))
    counts = cache.account(plain)
    assert (counts.cache_read_input_tokens, counts.cache_creation_input_tokens) == (0, 0) and counts.input_tokens > 0


def test_a_changed_early_block_invalidates_everything_after_it():
    cache = PromptCache(clock=lambda: 0.0)
    requests = conversation(3)
    cache.account(agent_request(requests[2]))
    edited = json.loads(json.dumps(requests[2]))
    edited[2]["content"][0]["content"] = "[result of bash cat f0 cleared to save context; call again if needed]"
    counts = cache.account(agent_request(edited))
    system_prefix = prefix_points(agent_request(user_says("Find the bug")))[1].tokens
    assert counts.cache_read_input_tokens == system_prefix  # only tools and system are still the same


def test_prices_follow_the_published_table_and_the_users_overrides():
    usage = Usage(input_tokens=1_000_000, output_tokens=100_000, cache_creation_input_tokens=200_000,
                  cache_read_input_tokens=500_000)  # fmt: skip
    table = PriceTable()
    # 300k plain at $3, 200k written at $3.75, 500k read at $0.30, 100k out at $15
    assert table.cost("claude-sonnet-4-5-20250929", usage) == pytest.approx(0.9 + 0.75 + 0.15 + 1.5)
    assert table.price("claude-opus-4-5") == ModelPrice(5.0, 25.0, 6.25, 0.5)
    assert table.price("claude-opus-4-1") == ModelPrice(15.0, 75.0, 18.75, 1.5)
    assert table.price("scripted") == table.price("claude-sonnet-4-5")
    assert table.price("llama-3-8b") is None and table.cost("llama-3-8b", usage) == 0.0
    custom = PriceTable.with_overrides({"llama-3-8b": {"input": 1, "output": 2}, "claude-sonnet-4-5": {
        "input": 1, "output": 1, "cache_write": 0, "cache_read": 0}})
    assert custom.price("llama-3-8b") == ModelPrice(1, 2, 1.25, 0.1) and custom.has_overrides
    assert custom.cost("claude-sonnet-4-5", usage) == pytest.approx(0.3 + 0.1)


def test_a_cost_budget_holds_the_most_a_request_can_cost_and_settles_the_real_cost():
    ledger = BudgetLedger(Budget(max_cost_usd=0.10))
    ledger.open_step("triage", Budget())
    first = ledger.reserve("triage", 1000, cost_usd=0.06)
    assert not isinstance(first, str)
    refused = ledger.reserve("triage", 1000, cost_usd=0.06)
    assert refused == ("step triage was stopped: the run would go over its cost budget of $0.1000: $0.0000 spent, "
                       "$0.0600 held by requests in flight, and this request may cost up to $0.0600")
    ledger.settle(first, Usage(input_tokens=100, output_tokens=10, cost_usd=0.02))
    assert ledger.run_usage().cost_usd == pytest.approx(0.02)
    assert ledger.failure("triage") == refused  # a step refused once stays refused


def test_max_cost_refuses_a_request_once_the_run_has_spent_it(start_gateway, tmp_path):
    gateway = start_gateway("steps: {}\n", run_budget=Budget(max_cost_usd=0.018))
    client = sdk_client(gateway, gateway.register_step("triage", tmp_path / "t.jsonl", model="claude-sonnet-4-5"))
    request = dict(model="claude-sonnet-4-5", max_tokens=512, messages=user_says("hi " * 2000))
    client.messages.create(**request)  # holds about $0.015 at most, costs about $0.005
    with pytest.raises(anthropic.PermissionDeniedError) as refused:
        client.messages.create(**request)
    assert "the run would go over its cost budget of $0.0180" in str(refused.value)
    assert 0 < gateway.usage("triage").cost_usd < 0.018


def test_max_cost_refuses_a_model_without_a_price(start_gateway, tmp_path):
    gateway = start_gateway("steps: {}\n", run_budget=Budget(max_cost_usd=5.0))
    client = sdk_client(gateway, gateway.register_step("triage", tmp_path / "t.jsonl", model="llama-local"))
    with pytest.raises(anthropic.PermissionDeniedError) as refused:
        client.messages.create(model="llama-local", max_tokens=64, messages=user_says("hi"))
    assert "the model llama-local has no price, so a cost budget cannot bound it" in str(refused.value)


def test_the_scripted_model_reports_cache_tokens_in_json_and_streams(start_gateway, tmp_path):
    gateway = start_gateway("steps: {}\n")
    transcript = tmp_path / "t.jsonl"
    client = sdk_client(gateway, gateway.register_step("triage", transcript, model="claude-sonnet-4-5"))
    request = agent_request(user_says("Find the bug"))
    first = client.messages.create(**request)
    with client.messages.stream(**request) as events:
        second = events.get_final_message()
    assert first.usage.cache_creation_input_tokens > 1024 and first.usage.cache_read_input_tokens == 0
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens == 0
    recorded = [json.loads(line)["usage"] for line in transcript.read_text().splitlines()]
    assert recorded[1]["cache_read_input_tokens"] == second.usage.cache_read_input_tokens  # read from the stream
    price = PriceTable().price("claude-sonnet-4-5")
    assert recorded[1]["cost_usd"] == pytest.approx(price.cost(Usage(
        input_tokens=recorded[1]["input_tokens"], output_tokens=recorded[1]["output_tokens"],
        cache_read_input_tokens=recorded[1]["cache_read_input_tokens"])), abs=1e-8)  # fmt: skip
    assert gateway.usage("triage").cache_read_input_tokens == second.usage.cache_read_input_tokens


def test_an_overlong_prompt_gets_the_providers_error_through_the_sdk(start_gateway, tmp_path):
    gateway = start_gateway("context_window: 500\nsteps: {}\n")
    client = sdk_client(gateway, gateway.register_step("triage", tmp_path / "t.jsonl"))
    messages = user_says("hi")
    client.messages.create(model="claude-test", max_tokens=64, messages=messages)
    with pytest.raises(anthropic.BadRequestError) as refused:
        client.messages.create(model="claude-test", max_tokens=64, messages=user_says("word " * 800))
    assert refused.value.status_code == 400
    assert refused.value.body["error"]["type"] == "invalid_request_error"
    assert refused.value.body["error"]["message"] == "prompt is too long: 1000 tokens > 500 maximum"
