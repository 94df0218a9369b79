"""The gateway with the scripted model, driven by the real anthropic SDK as the agent drives it."""

from __future__ import annotations

import json

import anthropic
import pytest

from .conftest import BASH_TOOL, answer_tools, sdk_client, user_says

TOOL_SCRIPT = """\
steps:
  triage:
    - - {type: text, text: "Looking at recent deploys"}
      - {type: tool_use, name: bash, input: {command: "git -C /src log --oneline -5"}}
    - - {type: text, text: "Triage complete"}
"""


def run_conversation(client, stream: bool) -> list:
    """Two turns of the agent's loop: ask, answer the tool call, get the final text."""
    messages = user_says("500 errors on /api/orders")
    answers = []
    for _ in range(2):
        if stream:
            with client.messages.stream(model="claude-test", max_tokens=512, messages=messages, tools=[BASH_TOOL]) as events:
                answers.append(events.get_final_message())
        else:
            answers.append(client.messages.create(model="claude-test", max_tokens=512, messages=messages, tools=[BASH_TOOL]))
        messages = answer_tools(messages, answers[-1])
    return answers


def comparable(message) -> dict:
    """A message without the generated ids, which differ between any two answers."""
    dumped = message.model_dump(exclude_none=True, exclude={"id"})
    for block in dumped["content"]:
        block.pop("id", None)
        block.pop("parsed_output", None)
    return dumped


def test_a_tool_use_round_trip_follows_the_script(start_gateway, tmp_path):
    gateway = start_gateway(TOOL_SCRIPT)
    client = sdk_client(gateway, gateway.register_step("triage", tmp_path / "t.jsonl"))

    first, second = run_conversation(client, stream=False)

    assert first.model == "claude-test"
    assert [block.type for block in first.content] == ["text", "tool_use"]
    assert first.content[1].id.startswith("toolu_") and first.content[1].name == "bash"
    assert first.content[1].input == {"command": "git -C /src log --oneline -5"}
    assert first.stop_reason == "tool_use"
    assert second.content[0].text == "Triage complete" and second.stop_reason == "end_turn"


def test_a_used_up_script_and_an_unscripted_step_answer_done(start_gateway, tmp_path):
    gateway = start_gateway(TOOL_SCRIPT)
    scripted = sdk_client(gateway, gateway.register_step("triage", tmp_path / "a.jsonl"))
    unscripted = sdk_client(gateway, gateway.register_step("postmortem", tmp_path / "b.jsonl"))
    run_conversation(scripted, stream=False)

    after_script = scripted.messages.create(model="m", max_tokens=10, messages=user_says("more?"))
    no_script = unscripted.messages.create(model="m", max_tokens=10, messages=user_says("hi"))

    for message in (after_script, no_script):
        assert [(block.type, block.text) for block in message.content] == [("text", "Done")]
        assert message.stop_reason == "end_turn"


def test_streamed_answers_parse_into_the_same_messages_as_plain_ones(start_gateway, tmp_path):
    gateway = start_gateway(TOOL_SCRIPT.replace("triage:", "triage: &turns") + "  streamed: *turns\n")
    plain = run_conversation(sdk_client(gateway, gateway.register_step("triage", tmp_path / "a.jsonl")), stream=False)
    streamed = run_conversation(sdk_client(gateway, gateway.register_step("streamed", tmp_path / "b.jsonl")), stream=True)

    assert [comparable(message) for message in streamed] == [comparable(message) for message in plain]
    assert streamed[0].content[1].id.startswith("toolu_")


def test_create_with_stream_true_yields_the_apis_event_sequence(start_gateway, tmp_path):
    gateway = start_gateway(TOOL_SCRIPT)
    client = sdk_client(gateway, gateway.register_step("triage", tmp_path / "t.jsonl"))

    events = list(client.messages.create(model="m", max_tokens=64, messages=user_says("go"), tools=[BASH_TOOL], stream=True))

    kinds = [event.type for event in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds.count("content_block_start") == kinds.count("content_block_stop") == 2
    deltas = [event.delta for event in events if event.type == "content_block_delta"]
    text = "".join(delta.text for delta in deltas if delta.type == "text_delta")
    tool_json = "".join(delta.partial_json for delta in deltas if delta.type == "input_json_delta")
    assert text == "Looking at recent deploys"
    assert json.loads(tool_json) == {"command": "git -C /src log --oneline -5"}
    assert events[-2].delta.stop_reason == "tool_use" and events[-2].usage.output_tokens > 0


def test_a_tool_result_for_a_wrong_id_is_a_bad_request_and_uses_no_turn(start_gateway, tmp_path):
    gateway = start_gateway(TOOL_SCRIPT)
    client = sdk_client(gateway, gateway.register_step("triage", tmp_path / "t.jsonl"))
    messages = user_says("go")
    first = client.messages.create(model="m", max_tokens=64, messages=messages, tools=[BASH_TOOL])
    drifted = answer_tools(messages, first)
    drifted[-1]["content"][0]["tool_use_id"] = "toolu_01NotTheOneYouGot"

    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(model="m", max_tokens=64, messages=drifted, tools=[BASH_TOOL])

    assert caught.value.status_code == 400
    assert caught.value.body["error"]["type"] == "invalid_request_error"
    assert "unexpected `tool_use_id` found in `tool_result` blocks: toolu_01NotTheOneYouGot" in str(caught.value)
    fixed = client.messages.create(model="m", max_tokens=64, messages=answer_tools(messages, first), tools=[BASH_TOOL])
    assert fixed.content[0].text == "Triage complete"


def test_tools_without_an_input_schema_are_refused(start_gateway, tmp_path):
    gateway = start_gateway()
    client = sdk_client(gateway, gateway.register_step("s", tmp_path / "t.jsonl"))

    with pytest.raises(anthropic.BadRequestError, match="tools.0.custom.input_schema: Field required"):
        client.messages.create(model="m", max_tokens=8, messages=user_says("hi"), tools=[{"name": "bash"}])


def test_count_tokens_answers_an_estimate(start_gateway, tmp_path):
    gateway = start_gateway()
    client = sdk_client(gateway, gateway.register_step("s", tmp_path / "t.jsonl"))

    counted = client.messages.count_tokens(model="m", messages=user_says("x" * 400))

    assert counted.input_tokens == 100


def test_usage_is_summed_per_step_from_the_responses(start_gateway, tmp_path):
    gateway = start_gateway(TOOL_SCRIPT)
    client = sdk_client(gateway, gateway.register_step("triage", tmp_path / "t.jsonl"))

    answers = run_conversation(client, stream=True)

    usage = gateway.usage("triage")
    assert usage.requests == 2
    assert usage.input_tokens == sum(answer.usage.input_tokens for answer in answers)
    assert usage.output_tokens == sum(answer.usage.output_tokens for answer in answers)
    first_answer_text = "Looking at recent deploys" + 'bash{"command": "git -C /src log --oneline -5"}'
    assert answers[0].usage.output_tokens == (len(first_answer_text) + 3) // 4  # about one token per four characters
    assert gateway.run_usage() == usage
    assert gateway.usage("never-registered").requests == 0


def test_the_transcript_has_one_line_per_exchange_without_any_token(start_gateway, tmp_path):
    gateway = start_gateway(TOOL_SCRIPT)
    transcript = tmp_path / "steps" / "triage" / "transcript.jsonl"
    token = gateway.register_step("triage", transcript)
    client = sdk_client(gateway, token)
    messages = user_says("go")
    first = client.messages.create(model="m", max_tokens=64, messages=messages, tools=[BASH_TOOL])
    leaked = answer_tools(messages, first, {first.content[1].id: f"ANTHROPIC_API_KEY={token}"})
    with client.messages.stream(model="m", max_tokens=64, messages=leaked, tools=[BASH_TOOL]) as events:
        events.get_final_message()

    text = transcript.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert token not in text and "[redacted]" in text
    assert len(lines) == 2
    assert set(lines[0]) >= {"time", "step_id", "request", "status", "response", "usage", "duration_ms"}
    assert lines[0]["step_id"] == "triage" and lines[0]["status"] == 200
    assert lines[0]["request"]["messages"] == messages
    assert lines[0]["response"]["content"][1]["id"] == first.content[1].id
    assert lines[0]["usage"] == {
        "input_tokens": first.usage.input_tokens, "output_tokens": first.usage.output_tokens,
        "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "cost_usd": 0.0,  # model "m" has no price
    }
    assert [event["event"] for event in lines[1]["response"]][0] == "message_start"
    assert lines[1]["response"][-1] == {"event": "message_stop", "data": {"type": "message_stop"}}
