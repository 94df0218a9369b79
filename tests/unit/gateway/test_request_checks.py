"""The scripted model's strict request checks, rule by rule, with the real API's messages."""

from __future__ import annotations

import copy

import pytest

from wave_sandbox.gateway.request_checks import find_request_problem

from .conftest import BASH_TOOL

TOOL_CALL = {"type": "tool_use", "id": "toolu_01A", "name": "bash", "input": {"command": "ls"}}
GOOD_REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 1024,
    "system": "You are a navigator.",
    "tools": [BASH_TOOL],
    "messages": [
        {"role": "user", "content": "Find the bug"},
        {"role": "assistant", "content": [{"type": "text", "text": "Looking"}, TOOL_CALL]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01A", "content": "a.py"}]},
    ],
}


def changed(change) -> dict:
    request = copy.deepcopy(GOOD_REQUEST)
    change(request)
    return request


def test_a_well_formed_tool_conversation_passes():
    assert find_request_problem(GOOD_REQUEST) is None


def test_count_tokens_needs_no_max_tokens():
    request = changed(lambda r: r.pop("max_tokens"))

    assert find_request_problem(request, needs_max_tokens=False) is None
    assert find_request_problem(request) == "max_tokens: Field required"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda r: r.pop("model"), "model: Field required"),
        (lambda r: r.update(max_tokens="many"), "max_tokens: Input should be a valid integer"),
        (lambda r: r.update(max_tokens=0), "max_tokens: Input should be greater than or equal to 1"),
        (lambda r: r.update(messages=[]), "messages: at least one message is required"),
        (lambda r: r.pop("messages"), "messages: Field required"),
        (lambda r: r["messages"].pop(0), 'messages: first message must use the "user" role'),
        (
            lambda r: r["messages"].insert(1, {"role": "user", "content": "again"}),
            'roles must alternate between "user" and "assistant", but found multiple "user" roles in a row',
        ),
        (lambda r: r["messages"][0].update(role="system"), "messages.0.role: Input should be 'user' or 'assistant'"),
        (lambda r: r["messages"][0].update(name="x"), "messages.0.name: Extra inputs are not permitted"),
        (lambda r: r["messages"][0].update(content=""), "messages.0: all messages must have non-empty content"),
        (lambda r: r["messages"][0].update(content=[]), "messages.0: all messages must have non-empty content"),
        (
            lambda r: r["messages"][2]["content"][0].update(tool_use_id="toolu_01WRONG"),
            "messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_01WRONG",
        ),
        (
            lambda r: r["messages"][2].update(content=[{"type": "text", "text": "no result"}]),
            "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_01A",
        ),
        (
            lambda r: r["messages"][2]["content"].append(dict(r["messages"][2]["content"][0])),
            "messages.2.content.1: unexpected `tool_use_id`",
        ),
        (
            lambda r: r["messages"][0].update(content=[{"type": "tool_result", "tool_use_id": "toolu_01A"}]),
            "messages.0.content.0: unexpected `tool_use_id`",
        ),
        (
            lambda r: r["messages"][0].update(content=[dict(TOOL_CALL)]),
            "`tool_use` blocks can only appear in assistant messages",
        ),
        (lambda r: r["messages"][1]["content"][1].pop("id"), "messages.1.content.1.tool_use.id: Field required"),
        (lambda r: r["messages"][1]["content"][0].update(text=""), "text content blocks must be non-empty"),
        (lambda r: r["messages"][1]["content"][0].update(text=" \n"), "must contain non-whitespace text"),
        (lambda r: r["messages"][1]["content"][0].update(type="txet"), "messages.1.content.0.type: Input tag 'txet'"),
        (
            lambda r: r["messages"][2]["content"][0].update(content=[{"type": "text", "text": ""}]),
            "text content blocks must be non-empty",
        ),
        (lambda r: r.pop("tools"), "Requests which include `tool_use` or `tool_result` blocks must define tools."),
        (lambda r: r["tools"][0].pop("input_schema"), "tools.0.custom.input_schema: Field required"),
        (lambda r: r["tools"][0].pop("name"), "tools.0.name: Field required"),
        (lambda r: r["tools"][0]["input_schema"].update(type="array"), "input_schema.type: Input should be 'object'"),
        (lambda r: r["tools"].append(dict(BASH_TOOL)), "tools: Tool names must be unique."),
        (lambda r: r.update(tool_choice={"type": "tool", "name": "grep"}), "Tool 'grep' not found in 'tools'"),
        (lambda r: r.update(stream="yes"), "stream: Input should be a valid boolean"),
        (lambda r: r.update(system=[{"type": "image"}]), "system.0: Input should be a text block"),
    ],
)
def test_a_malformed_request_gets_the_apis_message(change, expected):
    problem = find_request_problem(changed(change))

    assert problem is not None and expected in problem


def test_a_final_assistant_prefill_may_be_empty_and_tool_use_ids_must_be_unique():
    prefill = changed(lambda r: r["messages"].append({"role": "assistant", "content": ""}))
    same_call_again = [
        {"role": "assistant", "content": [dict(TOOL_CALL)]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01A", "content": "a.py"}]},
    ]
    repeated = changed(lambda r: r["messages"].extend(same_call_again))

    assert find_request_problem(prefill) is None
    assert "`tool_use` ids must be unique" in (find_request_problem(repeated) or "")


def test_a_body_that_is_not_an_object_is_refused():
    assert find_request_problem(["messages"]) == "the request body must be a JSON object"
