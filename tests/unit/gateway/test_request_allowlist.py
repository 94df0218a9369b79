"""The allowlist of what a step may ask the model for: what our agent sends passes, the rest is named."""

from __future__ import annotations

import json

import pytest

from wave_sandbox.gateway.request_allowlist import allowed_request, find_forbidden, forbidden_header

from .conftest import BASH_TOOL

AGENT_CONVERSATION = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 8192,
    "system": "You triage incidents.",
    "tools": [BASH_TOOL],
    "messages": [
        {"role": "user", "content": "Look at app.py"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "Let me look.", "signature": "c2ln"},
            {"type": "redacted_thinking", "data": "ZW5j"},
            {"type": "text", "text": "Reading it."},
            {"type": "tool_use", "id": "toolu_01", "name": "bash", "input": {"command": "cat app.py"}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": "print('hi')", "is_error": False},
        ]},
    ],
}  # fmt: skip
LATER_NEEDS = {
    "stream": True,
    "temperature": 0.2,
    "stop_sequences": ["END"],
    "thinking": {"type": "enabled", "budget_tokens": 2048},
    "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
    "system": [{"type": "text", "text": "Cached prompt", "cache_control": {"type": "ephemeral", "ttl": "5m"}}],
    "tools": [BASH_TOOL | {"cache_control": {"type": "ephemeral"}}],
}


def test_what_our_agent_sends_and_what_prompt_caching_and_streaming_need_pass():
    assert find_forbidden(AGENT_CONVERSATION, counting=False, max_tokens_cap=8192) is None
    assert find_forbidden(AGENT_CONVERSATION | LATER_NEEDS, counting=False, max_tokens_cap=8192) is None
    counting = {key: AGENT_CONVERSATION[key] for key in ("model", "system", "tools", "messages")}
    assert find_forbidden(counting, counting=True, max_tokens_cap=None) is None


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"mcp_servers": []}, "the request field 'mcp_servers' is not allowed"),
        ({"betas": ["x"]}, "the request field 'betas' is not allowed"),
        ({"max_tokens": 8193}, "max_tokens 8193 is over this step's cap of 8192"),
        ({"max_tokens": True}, "'max_tokens' has a value of the wrong type"),
        ({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "the tool type 'web_search_20250305'"),
        ({"tools": [BASH_TOOL | {"strict": True}]}, "the tool field 'strict' is not allowed"),
        ({"system": [{"type": "text", "text": "x", "cache_control": {"type": "persistent"}}]}, "cache_control must be"),
        ({"thinking": {"type": "enabled", "budget_tokens": 10, "display": "x"}}, "thinking must be"),
        ({"tool_choice": {"type": "auto", "extra": 1}}, "tool_choice may only hold"),
        ({"messages": [{"role": "user", "content": [{"type": "image", "source": {}}]}]}, "block type 'image'"),
        ({"messages": [{"role": "user", "content": "x", "name": "y"}]}, "messages.0 may only hold role and content"),
    ],
)
def test_each_forbidden_thing_is_named(change, named):
    problem = find_forbidden(AGENT_CONVERSATION | change, counting=False, max_tokens_cap=8192)

    assert problem is not None and named in problem


def test_a_tool_result_may_hold_text_blocks_only_and_count_tokens_takes_no_max_tokens():
    image_result = {"type": "tool_result", "tool_use_id": "toolu_01", "content": [{"type": "image", "source": {}}]}
    conversation = AGENT_CONVERSATION | {"messages": AGENT_CONVERSATION["messages"][:2] + [
        {"role": "user", "content": [image_result]}]}  # fmt: skip

    assert "block type 'image'" in find_forbidden(conversation, counting=False, max_tokens_cap=None)
    assert "'max_tokens' is not allowed" in find_forbidden(AGENT_CONVERSATION, counting=True, max_tokens_cap=None)


def test_the_forwarded_request_holds_the_allowed_fields_only_and_headers_are_judged():
    assert allowed_request(AGENT_CONVERSATION, counting=False) == AGENT_CONVERSATION
    assert set(allowed_request(AGENT_CONVERSATION, counting=True)) == {"model", "system", "tools", "messages"}
    assert "anthropic-beta" in forbidden_header("Anthropic-Beta", "mcp-client-2025-04-04")
    assert forbidden_header("anthropic-version", "2023-06-01") is None
    assert forbidden_header("anthropic-version", "latest\r\nx: y") is not None
    assert forbidden_header("x-stainless-lang", "python") is None  # not forwarded: no concern


EPHEMERAL = {"type": "ephemeral"}


def test_cache_control_passes_where_the_agent_puts_it_and_nowhere_else():
    from wave_sandbox.agent.cache_breakpoints import with_cache_breakpoints

    marked = with_cache_breakpoints(AGENT_CONVERSATION)
    assert json.dumps(marked).count('"cache_control"') == 4  # tools, system, the two user messages
    assert find_forbidden(marked, counting=False, max_tokens_cap=8192) is None
    assistant = marked["messages"][1]
    on_tool_use = [dict(block, cache_control=EPHEMERAL) if block["type"] == "tool_use" else block
                   for block in assistant["content"]]  # fmt: skip
    on_assistant_text = [dict(block, cache_control=EPHEMERAL) if block["type"] == "text" else block
                         for block in assistant["content"]]  # fmt: skip
    inner = {"type": "tool_result", "tool_use_id": "toolu_01",
             "content": [{"type": "text", "text": "x", "cache_control": EPHEMERAL}]}  # fmt: skip
    cases = [
        (with_messages(marked, 1, on_tool_use), "the field 'cache_control' is not allowed in a tool_use block"),
        (with_messages(marked, 1, on_assistant_text), "cache_control is allowed in user messages only"),
        (with_messages(marked, 2, [inner]), "cache_control goes on the tool_result block, not inside it"),
        (marked | {"tools": [BASH_TOOL | {"cache_control": EPHEMERAL}] * 2}, "5 cache_control breakpoints"),
    ]
    for request, named in cases:
        problem = find_forbidden(request, counting=False, max_tokens_cap=8192)
        assert problem is not None and named in problem, (named, problem)


def with_messages(request: dict, index: int, content: list) -> dict:
    messages = list(request["messages"])
    messages[index] = dict(messages[index], content=content)
    return request | {"messages": messages}
