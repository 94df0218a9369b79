"""Keeping the conversation inside the context window, and the cache breakpoints of each request."""

from __future__ import annotations

import copy
import json

from wave_sandbox.agent.cache_breakpoints import MAX_BREAKPOINTS, with_cache_breakpoints
from wave_sandbox.agent.context_window import ContextKeeper, parse_prompt_too_long

RESULT_CHARS = 3000


def conversation(turns: int) -> list[dict]:
    messages = [{"role": "user", "content": "Read the sources and find the bug"}]
    for turn in range(turns):
        messages.append({"role": "assistant", "content": [
            {"type": "text", "text": f"Reading part {turn}"},
            {"type": "tool_use", "id": f"toolu_{turn}", "name": "read_file", "input": {"path": f"src/part{turn}.py"}},
        ]})  # fmt: skip
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": f"toolu_{turn}", "content": f"# part {turn}\n" + "x" * RESULT_CHARS,
             "is_error": False}]})  # fmt: skip
    return messages


def request_of(messages: list[dict]) -> dict:
    return {"model": "m", "max_tokens": 1000, "system": "You read code.", "messages": messages}


def alternates(messages: list[dict]) -> bool:
    roles = [message["role"] for message in messages]
    return roles[0] == "user" and all(a != b for a, b in zip(roles, roles[1:]))


def test_a_conversation_within_the_budget_is_left_alone():
    messages = conversation(3)
    before = copy.deepcopy(messages)
    assert ContextKeeper(200_000, 8192).fit(messages, request_of) is None
    assert messages == before


def test_the_oldest_tool_results_are_cleared_first_with_a_stub_naming_the_call():
    messages = conversation(10)
    keeper = ContextKeeper(context_window=12_000, max_tokens=1000)  # budget 9,900, about 11,000 sent
    shrunk = keeper.fit(messages, request_of)
    assert shrunk is not None and shrunk.cleared > 0 and shrunk.compacted_turns == 0
    assert messages[2]["content"][0]["content"] == (
        "[result of read_file src/part0.py cleared to save context; call again if needed]")
    assert messages[-1]["content"][0]["content"].startswith("# part 9")  # the latest results are kept
    assert messages[-3]["content"][0]["content"].startswith("# part 8")
    assert keeper.estimate(request_of(messages)) <= keeper.shrink_target
    assert shrunk.describe().startswith(f"context: cleared {shrunk.cleared} old tool result(s), about ")
    assert alternates(messages) and len(messages) == 21


def test_when_clearing_is_not_enough_the_earliest_turns_become_a_summary():
    messages = conversation(30)
    keeper = ContextKeeper(context_window=6_000, max_tokens=1000)  # the stubs alone are too many
    shrunk = keeper.fit(messages, request_of)
    assert shrunk.compacted_turns > 0
    assert alternates(messages)
    first = messages[0]["content"]
    assert first[0]["text"] == "Read the sources and find the bug"  # the task is always kept
    assert first[1]["text"].startswith("[Summary of earlier turns, removed to save context]")
    assert "- you said: Reading part 0" in first[1]["text"] and "- you called read_file src/part0.py" in first[1]["text"]
    assert messages[-1]["content"][0]["content"].startswith("# part 29")
    tool_uses = {b["id"] for m in messages if m["role"] == "assistant" for b in m["content"] if b["type"] == "tool_use"}
    results = {b["tool_use_id"] for m in messages[1:] if m["role"] == "user" for b in m["content"]}
    assert tool_uses == results  # every call still has its result and no result lost its call


def test_the_providers_error_teaches_the_window_and_the_size():
    assert parse_prompt_too_long("prompt is too long: 208310 tokens > 200000 maximum") == (208310, 200000)
    assert parse_prompt_too_long("max_tokens: too big") is None
    messages = conversation(10)
    keeper = ContextKeeper(context_window=200_000, max_tokens=1000)
    assert keeper.fit(messages, request_of) is None
    keeper.learn_too_long(request_of(messages), prompt_tokens=20_000, maximum=16_000)  # tokens are denser here
    assert keeper.context_window == 16_000 and keeper.estimate(request_of(messages)) in range(19_990, 20_010)
    assert keeper.fit(messages, request_of).cleared > 0
    assert keeper.estimate(request_of(messages)) <= keeper.prompt_budget


def test_breakpoints_mark_the_prefix_and_the_latest_two_user_messages_without_touching_the_conversation():
    messages = conversation(3)
    request = {"model": "m", "max_tokens": 9, "system": "You read code.", "messages": messages,
               "tools": [{"name": "a", "input_schema": {}}, {"name": "b", "input_schema": {}}]}  # fmt: skip
    before = copy.deepcopy(request)
    marked = with_cache_breakpoints(request)
    assert request == before
    assert json.dumps(marked).count("cache_control") == MAX_BREAKPOINTS
    assert "cache_control" in marked["tools"][1] and "cache_control" not in marked["tools"][0]
    assert marked["system"] == [{"type": "text", "text": "You read code.", "cache_control": {"type": "ephemeral"}}]
    assert "cache_control" in marked["messages"][-1]["content"][-1]
    assert "cache_control" in marked["messages"][-3]["content"][-1]
    first = with_cache_breakpoints({"model": "m", "max_tokens": 9, "messages": conversation(0)})
    assert first["messages"][0]["content"] == [
        {"type": "text", "text": "Read the sources and find the bug", "cache_control": {"type": "ephemeral"}}]
