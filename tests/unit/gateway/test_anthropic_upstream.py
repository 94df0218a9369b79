"""The Anthropic upstream against a local fake API: the real key goes there and nowhere else,
streams pass through as they arrive, and 429/529 are retried honouring retry-after.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
from email.message import Message

import anthropic
import pytest

from wave_sandbox.gateway.anthropic_upstream import AnthropicUpstream, RetryPolicy, https_proxy_for, parse_retry_after
from wave_sandbox.gateway.upstream import UpstreamRequest

from .conftest import sdk_client, user_says
from .fake_anthropic import FakeAnthropic, Reply, sse

REAL_KEY = "sk-ant-api03-REAL-HOST-KEY-must-never-leave-the-host"
FAST_RETRIES = RetryPolicy(max_attempts=3, backoff_base_s=0.01, max_retry_after_s=1.0)


def api_message(text: str, input_tokens: int = 11, output_tokens: int = 7) -> dict:
    return {
        "id": "msg_01Fake", "type": "message", "role": "assistant", "model": "claude-test", "stop_reason": "end_turn",
        "stop_sequence": None, "content": [{"type": "text", "text": text}],
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def event(name: str, **fields) -> bytes:
    return sse(name, {"type": name, **fields})


def api_error(status: int, error_type: str, message: str, headers: dict | None = None) -> Reply:
    return Reply(status, {"type": "error", "error": {"type": error_type, "message": message}}, headers or {})


@pytest.fixture
def fake_api():
    fake = FakeAnthropic()
    yield fake
    fake.stop()


@pytest.fixture
def forwarding(start_gateway, fake_api, tmp_path):
    """A gateway forwarding to the fake API, and an SDK client holding the step token."""
    gateway = start_gateway(upstream=AnthropicUpstream(REAL_KEY, base_url=fake_api.base_url, retry=FAST_RETRIES))
    token = gateway.register_step("triage", tmp_path / "transcript.jsonl")
    return gateway, token, sdk_client(gateway, token)


def ask(client) -> anthropic.types.Message:
    return client.messages.create(model="claude-test", max_tokens=32, messages=user_says("hi"))


def test_the_real_key_reaches_the_upstream_and_nowhere_else(forwarding, fake_api, tmp_path, caplog):
    gateway, token, client = forwarding
    caplog.set_level(logging.DEBUG)
    fake_api.replies.append(Reply(body=api_message("hello")))
    fake_api.replies.append(api_error(400, "invalid_request_error", f"a proxy quoting the key {REAL_KEY}"))

    answer = ask(client)
    with pytest.raises(anthropic.BadRequestError):
        ask(client)

    arrived = fake_api.received[0]
    assert answer.content[0].text == "hello"
    assert arrived.path == "/v1/messages"
    assert arrived.headers["x-api-key"] == REAL_KEY
    assert arrived.headers["anthropic-version"] == client.default_headers["anthropic-version"]
    assert token not in json.dumps(arrived.headers) + arrived.body.decode()
    assert json.loads(arrived.body)["messages"] == user_says("hi")
    written = (tmp_path / "transcript.jsonl").read_text()
    assert REAL_KEY not in written and "a proxy quoting the key [redacted]" in written
    assert REAL_KEY not in caplog.text and token not in caplog.text
    assert len(fake_api.received) == 2  # a 400 is the container's to see, never retried


def test_usage_is_read_from_json_answers(forwarding, fake_api):
    gateway, _token, client = forwarding
    fake_api.replies.extend([Reply(body=api_message("one", 11, 7)), Reply(body=api_message("two", 20, 3))])

    ask(client)
    ask(client)

    usage = gateway.usage("triage")
    assert (usage.requests, usage.input_tokens, usage.output_tokens) == (2, 31, 10)


def test_a_stream_passes_through_as_it_arrives_and_its_usage_is_counted(forwarding, fake_api, tmp_path):
    gateway, _token, client = forwarding
    first_text_seen = threading.Event()
    started = api_message("")
    started.update(content=[], stop_reason=None, usage={"input_tokens": 40, "cache_read_input_tokens": 2, "output_tokens": 1})
    fake_api.replies.append(Reply(stream=[
        event("message_start", message=started),
        event("content_block_start", index=0, content_block={"type": "text", "text": ""}),
        event("content_block_delta", index=0, delta={"type": "text_delta", "text": "Hel"}),
        first_text_seen,  # the fake holds the rest back until the client has seen "Hel"
        event("content_block_delta", index=0, delta={"type": "text_delta", "text": "lo"}),
        event("content_block_stop", index=0),
        event("message_delta", delta={"stop_reason": "end_turn", "stop_sequence": None}, usage={"output_tokens": 9}),
        event("message_stop"),
    ]))

    with client.messages.stream(model="claude-test", max_tokens=32, messages=user_says("hi")) as events:
        for text in events.text_stream:
            first_text_seen.set()
        final = events.get_final_message()

    assert fake_api.gates_released == [True], "the client saw no text before the upstream finished: the stream was buffered"
    assert final.content[0].text == "Hello"
    usage = gateway.usage("triage")
    assert (usage.input_tokens, usage.output_tokens) == (42, 9)
    record = json.loads((tmp_path / "transcript.jsonl").read_text())
    assert [event["event"] for event in record["response"]][:2] == ["message_start", "content_block_start"]
    assert record["usage"] == {"input_tokens": 42, "output_tokens": 9, "cache_creation_input_tokens": 0,
                               "cache_read_input_tokens": 2, "cost_usd": 0.0}  # claude-test has no price


def test_a_429_is_retried_after_the_retry_after_it_asks_for(forwarding, fake_api, tmp_path):
    gateway, _token, client = forwarding
    fake_api.replies.append(api_error(429, "rate_limit_error", "slow down", {"retry-after": "0.3"}))
    fake_api.replies.append(Reply(body=api_message("after the wait")))

    answer = ask(client)

    assert answer.content[0].text == "after the wait"
    first, second = fake_api.received
    assert second.at - first.at >= 0.3
    assert gateway.usage("triage").requests == 1
    assert json.loads((tmp_path / "transcript.jsonl").read_text())["status"] == 200


def test_529_overloaded_is_retried_with_backoff(forwarding, fake_api):
    _gateway, _token, client = forwarding
    overloaded = api_error(529, "overloaded_error", "Overloaded")
    fake_api.replies.extend([overloaded, overloaded, Reply(body=api_message("finally"))])

    assert ask(client).content[0].text == "finally"
    assert len(fake_api.received) == 3


def test_retries_are_bounded_and_the_last_429_reaches_the_container(forwarding, fake_api):
    _gateway, _token, client = forwarding
    fake_api.replies.extend(api_error(429, "rate_limit_error", "slow down", {"retry-after": "0"}) for _ in range(5))

    with pytest.raises(anthropic.RateLimitError):
        ask(client)

    assert len(fake_api.received) == FAST_RETRIES.max_attempts


def test_a_retry_after_longer_than_the_gateway_waits_is_passed_on_at_once(forwarding, fake_api):
    _gateway, _token, client = forwarding
    fake_api.replies.append(api_error(429, "rate_limit_error", "come back later", {"retry-after": "120"}))

    with pytest.raises(anthropic.RateLimitError) as caught:
        ask(client)

    assert caught.value.response.headers["retry-after"] == "120"
    assert len(fake_api.received) == 1


def test_an_unreachable_upstream_is_a_502_after_bounded_retries(start_gateway, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    upstream = AnthropicUpstream(REAL_KEY, base_url=f"http://127.0.0.1:{closed_port}", retry=FAST_RETRIES)
    gateway = start_gateway(upstream=upstream)
    client = sdk_client(gateway, gateway.register_step("s", tmp_path / "t.jsonl"), max_retries=2)

    with pytest.raises(anthropic.APIStatusError) as caught:
        ask(client)

    assert caught.value.status_code == 502
    assert "could not reach the Anthropic API at http://127.0.0.1" in str(caught.value)
    assert gateway.usage("s").requests == 1  # x-should-retry: false kept the SDK from trying again


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_in_each_form_the_api_uses(headers, expected):
    message = Message()
    for name, value in headers.items():
        message[name] = value

    assert parse_retry_after(message) == expected


def test_retry_after_as_an_http_date_counts_down_from_now():
    message = Message()
    message["retry-after"] = "Wed, 01 Jan 2020 00:00:00 GMT"

    assert parse_retry_after(message) == 0.0


def test_sequential_requests_reuse_one_pooled_connection(forwarding, fake_api):
    _gateway, _token, client = forwarding
    fake_api.replies.extend(Reply(body=api_message(text)) for text in ("one", "two", "three"))

    answers = [ask(client).content[0].text for _ in range(3)]

    assert answers == ["one", "two", "three"]
    assert len({arrived.peer for arrived in fake_api.received}) == 1, "each request opened its own connection"


def test_a_stream_closed_before_its_end_is_not_reused(fake_api):
    upstream = AnthropicUpstream(REAL_KEY, base_url=fake_api.base_url, retry=FAST_RETRIES)
    fake_api.replies.append(Reply(stream=[event("message_start", message=api_message("")), threading.Event()]))
    fake_api.replies.append(Reply(body=api_message("after")))

    cut = upstream.send(upstream_request())
    next(cut.chunks)
    cut.close()  # the client went away mid-stream: the connection still holds unread bytes
    after = upstream.send(upstream_request())

    assert json.loads(after.body)["content"][0]["text"] == "after"
    first, second = fake_api.received
    assert first.peer != second.peer
    upstream.close()


class RecordingProxy:
    """A forward proxy stand-in on loopback: records each CONNECT head it gets and refuses the tunnel."""

    def __init__(self) -> None:
        self.heads: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://tunnel-user:tunnel%20pw@127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                head = b""
                while b"\r\n\r\n" not in head and (data := connection.recv(4096)):
                    head += data
                self.heads.append(head)
                connection.sendall(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")


def upstream_request() -> UpstreamRequest:
    payload = {"model": "claude-test", "max_tokens": 8, "messages": user_says("hi")}
    return UpstreamRequest("s", "/v1/messages", "", {}, json.dumps(payload).encode(), payload)


def test_the_hosts_https_proxy_carries_the_request_in_a_connect_tunnel():
    proxy = RecordingProxy()
    base_url = "https://api.anthropic.com"
    proxy_url = https_proxy_for(base_url, {"HTTPS_PROXY": proxy.url, "NO_PROXY": "localhost"})
    upstream = AnthropicUpstream(REAL_KEY, base_url=base_url, retry=FAST_RETRIES, proxy_url=proxy_url)

    answer = upstream.send(upstream_request())

    assert answer.status == 502 and b"could not reach the Anthropic API" in answer.body
    assert len(proxy.heads) == FAST_RETRIES.max_attempts  # the proxy's refusal is a connection failure, retried
    first_line, *header_lines = proxy.heads[0].decode().split("\r\n")
    assert first_line == "CONNECT api.anthropic.com:443 HTTP/1.1"
    credentials = base64.b64encode(b"tunnel-user:tunnel pw").decode()
    assert f"proxy-authorization: basic {credentials}".lower() in [line.lower() for line in header_lines]
    assert not any(REAL_KEY.encode() in head for head in proxy.heads), "the key must only travel inside the tunnel"
    proxy.listener.close()
    upstream.close()


def test_proxy_variables_of_the_process_are_not_read_for_a_plain_http_upstream(fake_api, monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    upstream = AnthropicUpstream(REAL_KEY, base_url=fake_api.base_url, retry=FAST_RETRIES)
    fake_api.replies.append(Reply(body=api_message("direct")))

    answer = upstream.send(upstream_request())

    assert json.loads(answer.body)["content"][0]["text"] == "direct"
    upstream.close()


def test_cookies_set_by_the_upstream_are_never_sent_back(fake_api):
    upstream = AnthropicUpstream(REAL_KEY, base_url=fake_api.base_url, retry=FAST_RETRIES)
    fake_api.replies.append(Reply(body=api_message("one"), headers={"set-cookie": "session=from-step-a; Path=/"}))
    fake_api.replies.append(Reply(body=api_message("two")))

    upstream.send(upstream_request())
    upstream.send(upstream_request())

    assert "cookie" not in fake_api.received[1].headers
    upstream.close()


def test_a_redirect_is_relayed_never_followed_with_the_key(fake_api):
    elsewhere = FakeAnthropic()
    upstream = AnthropicUpstream(REAL_KEY, base_url=fake_api.base_url, retry=FAST_RETRIES)
    fake_api.replies.append(Reply(307, {}, {"location": f"{elsewhere.base_url}/v1/messages"}))

    answer = upstream.send(upstream_request())

    assert answer.status == 307 and len(fake_api.received) == 1
    assert elsewhere.received == []  # the key went to the configured upstream only
    upstream.close()
    elsewhere.stop()
