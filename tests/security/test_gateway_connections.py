"""Gateway connections: idle, half-sent and greedy connections against a real Gateway on loopback. None of
them needs a token to open; none may make host threads without bound or starve a step's own requests.
"""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlsplit

import anthropic

from tests.security.gateway_kit import MODEL, RecordingScriptedUpstream, error_message, message_request, raw_post
from tests.unit.gateway.conftest import sdk_client, user_says
from wave_sandbox.gateway import Budget, Gateway
from wave_sandbox.gateway.connections import ConnectionLimits

HALF_SENT_HEAD = b"POST /v1/messages HTTP/1.1\r\nHost: gateway\r\nContent-Length: 100\r\n"  # never ends


def open_half_sent(gateway: Gateway, count: int) -> list[socket.socket]:
    address = urlsplit(gateway.base_url)
    sockets = []
    for _ in range(count):
        sock = socket.create_connection((address.hostname, address.port), timeout=5)
        sock.sendall(HALF_SENT_HEAD)
        sockets.append(sock)
    return sockets


def closed_by_peer(sock: socket.socket, wait_s: float) -> bool:
    sock.settimeout(wait_s)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_a_thousand_half_sent_requests_make_no_threads_and_a_step_is_still_answered(tmp_path):
    baseline = threading.active_count()
    with Gateway(RecordingScriptedUpstream(tmp_path), "127.0.0.1") as gateway:
        token = gateway.register_step("legit", tmp_path / "t.jsonl", Budget(), model=MODEL)
        flood = open_half_sent(gateway, 1500)
        time.sleep(0.5)  # let the gateway take them all in
        threads_under_flood = threading.active_count() - baseline
        open_on_the_gateway = gateway.connection_server.connection_count()

        started = time.monotonic()
        answer = sdk_client(gateway, token).messages.create(model=MODEL, max_tokens=8, messages=user_says("hi"))
        answered_in = time.monotonic() - started
        worker_threads = gateway.connection_server.worker_threads
        for sock in flood:
            sock.close()

    assert threads_under_flood <= 2, f"{threads_under_flood} threads for 1500 half-sent requests"
    assert open_on_the_gateway <= ConnectionLimits().max_connections
    assert answer.content[0].text == "Done" and answered_in < 2.0, f"answered in {answered_in:.2f} s"
    assert worker_threads <= 2


def test_a_head_sent_byte_by_byte_is_cut_at_the_head_timeout(tmp_path):
    limits = ConnectionLimits(head_timeout_s=1.0)
    with Gateway(RecordingScriptedUpstream(tmp_path), "127.0.0.1", limits=limits) as gateway:
        [slow] = open_half_sent(gateway, 1)
        started = time.monotonic()
        dropped = False
        while not dropped and time.monotonic() - started < 5:
            try:
                slow.sendall(b"X")  # slowloris: a byte every 0.2 s keeps every single read alive
            except OSError:
                dropped = True
            dropped = dropped or closed_by_peer(slow, 0.2)
        cut_after = time.monotonic() - started

    assert dropped and cut_after < 2.5, f"the half-sent head was kept {cut_after:.1f} s"


def test_a_body_that_stops_halfway_is_cut_at_the_body_timeout(tmp_path):
    limits = ConnectionLimits(body_timeout_s=1.0)
    with Gateway(RecordingScriptedUpstream(tmp_path), "127.0.0.1", limits=limits) as gateway:
        token = gateway.register_step("stall", tmp_path / "t.jsonl", Budget(), model=MODEL)
        address = urlsplit(gateway.base_url)
        sock = socket.create_connection((address.hostname, address.port), timeout=5)
        sock.sendall(f"POST /v1/messages HTTP/1.1\r\nx-api-key: {token}\r\nContent-Length: 1000\r\n\r\n{{".encode())

        assert closed_by_peer(sock, 3.0)


def test_a_step_cannot_hold_more_than_its_share_of_requests(tmp_path):
    limits = ConnectionLimits(max_step_requests=2)
    script = "steps:\n  greedy:\n" + '    - {delay_s: 1.0, content: [{type: text, text: "ok"}]}\n' * 6
    answers: list[tuple[int, dict]] = []
    with Gateway(RecordingScriptedUpstream(tmp_path, script), "127.0.0.1", limits=limits) as gateway:
        token = gateway.register_step("greedy", tmp_path / "g.jsonl", Budget(), model=MODEL)
        other = gateway.register_step("other", tmp_path / "o.jsonl", Budget(), model=MODEL)
        threads = [threading.Thread(target=lambda: answers.append(raw_post(gateway, message_request(), token)))
                   for _ in range(6)]  # fmt: skip
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        started = time.monotonic()
        other_status = raw_post(gateway, message_request(), other)[0]
        other_answered_in = time.monotonic() - started
        for thread in threads:
            thread.join(10)

    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 200, 429, 429, 429, 429]
    assert all("has as many requests in flight as it may" in error_message(a) for s, a in answers if s == 429)
    assert gateway.usage("greedy").requests == 6  # refused, and counted
    assert other_status == 200 and other_answered_in < 0.5


def test_many_parallel_requests_share_a_bounded_pool_of_workers(tmp_path):
    limits = ConnectionLimits(workers=4, max_step_requests=64)
    script = "steps:\n  busy:\n" + '    - {delay_s: 0.3, content: [{type: text, text: "ok"}]}\n' * 24
    baseline = threading.active_count()
    seen_threads: list[int] = []
    answers: list[str] = []
    with Gateway(RecordingScriptedUpstream(tmp_path, script), "127.0.0.1", limits=limits) as gateway:
        client = sdk_client(gateway, gateway.register_step("busy", tmp_path / "t.jsonl", Budget(), model=MODEL))

        def ask() -> None:
            try:
                answers.append(client.messages.create(model=MODEL, max_tokens=8, messages=user_says("hi")).content[0].text)
            except anthropic.APIError as exc:
                answers.append(repr(exc))

        threads = [threading.Thread(target=ask) for _ in range(24)]
        for thread in threads:
            thread.start()
        for _ in range(10):
            seen_threads.append(threading.active_count() - baseline - 24)
            time.sleep(0.1)
        for thread in threads:
            thread.join(20)

    assert answers == ["ok"] * 24
    assert max(seen_threads) <= 1 + limits.workers, f"{max(seen_threads)} gateway threads for 24 requests"
