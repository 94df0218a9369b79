"""The connection server: keep-alive, pipelining, 100-continue, broken heads, and its caps, over real sockets."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

from wave_sandbox.gateway.connections import ConnectionLimits

REQUEST = json.dumps({"model": "m", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}).encode()


def connect(gateway) -> socket.socket:
    address = urlsplit(gateway.base_url)
    return socket.create_connection((address.hostname, address.port), timeout=5)


def post_bytes(token: str, body: bytes = REQUEST, extra: str = "") -> bytes:
    head = f"POST /v1/messages HTTP/1.1\r\nHost: g\r\nx-api-key: {token}\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


def read_responses(sock: socket.socket, count: int) -> list[bytes]:
    """The status lines of ``count`` responses with Content-Length bodies."""
    data, statuses = b"", []
    while len(statuses) < count:
        head_end = data.find(b"\r\n\r\n")
        if head_end < 0:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            continue
        head = data[:head_end].decode()
        length = int(next(line.split(":")[1] for line in head.split("\r\n") if line.lower().startswith("content-length")))
        while len(data) < head_end + 4 + length:
            data += sock.recv(65536)
        statuses.append(head.split("\r\n")[0].encode())
        data = data[head_end + 4 + length :]
    return statuses


def test_one_connection_serves_requests_one_after_another_and_pipelined(start_gateway, tmp_path):
    gateway = start_gateway()
    token = gateway.register_step("s", tmp_path / "t.jsonl")
    sock = connect(gateway)

    sock.sendall(post_bytes(token))
    first = read_responses(sock, 1)
    sock.sendall(post_bytes(token) + post_bytes(token))  # two requests in one write
    following = read_responses(sock, 2)

    assert first + following == [b"HTTP/1.1 200 OK"] * 3
    assert gateway.usage("s").requests == 3
    assert gateway.connection_server.connection_count() == 1


def test_a_client_expecting_100_continue_gets_it_before_sending_its_body(start_gateway, tmp_path):
    gateway = start_gateway()
    token = gateway.register_step("s", tmp_path / "t.jsonl")
    sock = connect(gateway)
    head, body = post_bytes(token, extra="Expect: 100-continue\r\n").split(b"\r\n\r\n", 1)

    sock.sendall(head + b"\r\n\r\n")
    interim = sock.recv(100)
    sock.sendall(body)

    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert read_responses(sock, 1) == [b"HTTP/1.1 200 OK"]


def test_a_broken_head_and_a_wrong_method_are_answered_and_a_missing_token_reads_no_body(start_gateway, tmp_path):
    gateway = start_gateway()
    broken, wrong_method, no_token = connect(gateway), connect(gateway), connect(gateway)

    broken.sendall(b"NONSENSE\r\n\r\n")
    wrong_method.sendall(b"GET /v1/messages HTTP/1.1\r\nHost: g\r\n\r\n")
    no_token.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: g\r\nContent-Length: 1000000\r\n\r\n")

    assert b"Error code: 400" in broken.recv(4096)  # the stdlib parser answers an HTTP/0.9-style request
    assert read_responses(wrong_method, 1) == [b"HTTP/1.1 404 Not Found"]
    assert read_responses(no_token, 1) == [b"HTTP/1.1 401 Unauthorized"]  # answered without waiting for the body


def test_at_the_connection_cap_the_longest_waiting_connection_makes_room(start_gateway, tmp_path):
    gateway = start_gateway(limits=ConnectionLimits(max_connections=3))
    token = gateway.register_step("s", tmp_path / "t.jsonl")
    idle = [connect(gateway) for _ in range(3)]
    time.sleep(0.2)

    newest = connect(gateway)
    newest.sendall(post_bytes(token))

    assert read_responses(newest, 1) == [b"HTTP/1.1 200 OK"]
    assert idle[0].recv(1) == b""  # the oldest was dropped for it
    assert gateway.connection_server.connection_count() <= 3
