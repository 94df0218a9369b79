"""A scripted OpenAI-compatible server: answers POST /v1/chat/completions from queued turns.

It speaks Chat Completions as OpenAI, vLLM and llama.cpp do (a ``chat.completion`` object, or
``chat.completion.chunk`` events ending in a usage chunk and ``data: [DONE]``), and
tests/unit/gateway/test_scripted_chat_server.py holds it to what the real ``openai`` SDK parses. It
checks requests as OpenAI does where the gateway's translation could go wrong (roles, every ``tool``
message answering a call of the assistant message before it, tools as functions) and answers a bad
one with OpenAI's 400 error shape. Every request is recorded.

    server = ScriptedChatServer()
    server.turns.append([text("Looking"), call("bash", {"command": "ls"})])
    server.turns.append(Reply(status=429, body=openai_error("slow down", "rate_limit_exceeded")))
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PIECE = 7  # small pieces make the client really reassemble text and arguments


def text(value: str) -> dict:
    return {"text": value}


def call(name: str, arguments: dict, call_id: str | None = None) -> dict:
    return {"name": name, "arguments": arguments, "id": call_id}


def openai_error(message: str, code: str | None = None, error_type: str = "invalid_request_error") -> dict:
    return {"error": {"message": message, "type": error_type, "param": None, "code": code}}


@dataclass
class Reply:
    """A raw answer instead of a turn: a status, a JSON body and headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Usage:
    prompt_tokens: int = 120
    completion_tokens: int = 30
    cached_tokens: int = 0


def request_problem(body: Any) -> str | None:
    """What OpenAI would refuse in ``body`` (the parts a translation can get wrong), or None."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body.get("model"):
        return "model and messages are required"
    open_calls: set[str] = set()
    for index, message in enumerate(body["messages"]):
        role = message.get("role")
        if role not in ("system", "user", "assistant", "tool"):
            return f"messages[{index}].role {role!r} is not valid"
        if role == "tool" and message.get("tool_call_id") not in open_calls:
            return f"messages[{index}]: a tool message must answer a tool_call of the preceding assistant message"
        if role == "assistant":
            open_calls = {item["id"] for item in message.get("tool_calls") or ()}
            for item in message.get("tool_calls") or ():
                try:
                    json.loads(item["function"]["arguments"])
                except ValueError:
                    return f"messages[{index}]: tool_call arguments must be a JSON text"
        elif role != "tool":
            open_calls = set()
    for tool in body.get("tools") or ():
        if tool.get("type") != "function" or not tool.get("function", {}).get("name"):
            return "tools must be {type: function, function: {name, parameters}}"
    return None


class ScriptedChatServer:
    """Answers queued turns (a list of text()/call() items, or a Reply); "Done" when none is left."""

    def __init__(self, host: str = "127.0.0.1", usage: Usage | None = None) -> None:
        self.turns: deque[list[dict] | Reply] = deque()
        self.received: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.usage = usage or Usage()
        self._calls = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"null")
                server.received.append(body)
                server.headers.append({name.lower(): value for name, value in self.headers.items()})
                server.answer(self, body)

        self.http = ThreadingHTTPServer((host, 0), Handler)
        self.http.daemon_threads = True
        self.port = self.http.server_port
        self.base_url = f"http://{host}:{self.port}/v1"
        self.thread = threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.thread.join(2)

    def answer(self, handler: BaseHTTPRequestHandler, body: Any) -> None:
        if handler.path != "/v1/chat/completions":
            return _send_json(handler, 404, openai_error(f"no route {handler.path}", "not_found"))
        problem = request_problem(body)
        if problem:
            return _send_json(handler, 400, openai_error(problem))
        turn = self.turns.popleft() if self.turns else [text("Done")]
        if isinstance(turn, Reply):
            return _send_json(handler, turn.status, turn.body, turn.headers)
        self._calls += 1
        if body.get("stream"):
            return self._stream(handler, body, turn)
        return _send_json(handler, 200, self._completion(body, turn))

    def _tool_calls(self, turn: list[dict]) -> list[dict]:
        return [
            {"id": item["id"] or f"call_{self._calls}_{index}", "type": "function",
             "function": {"name": item["name"], "arguments": json.dumps(item["arguments"])}}
            for index, item in enumerate(turn) if "name" in item
        ]  # fmt: skip

    def _usage(self) -> dict:
        usage = self.usage
        return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                "total_tokens": usage.prompt_tokens + usage.completion_tokens,
                "prompt_tokens_details": {"cached_tokens": usage.cached_tokens}}  # fmt: skip

    def _completion(self, body: dict, turn: list[dict]) -> dict:
        calls = self._tool_calls(turn)
        content = "".join(item["text"] for item in turn if "text" in item) or None
        message = {"role": "assistant", "content": content, "refusal": None}
        if calls:
            message["tool_calls"] = calls
        return {
            "id": f"chatcmpl-{self._calls}", "object": "chat.completion", "created": 1_765_000_000,
            "model": body["model"], "system_fingerprint": "fp_scripted",
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": "tool_calls" if calls else "stop"}],
            "usage": self._usage(),
        }  # fmt: skip

    def _stream(self, handler: BaseHTTPRequestHandler, body: dict, turn: list[dict]) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.send_header("transfer-encoding", "chunked")
        handler.end_headers()
        for delta, finish in _deltas(turn, self._tool_calls(turn)):
            self._send_chunk(handler, body, [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}])
        if (body.get("stream_options") or {}).get("include_usage"):
            self._send_chunk(handler, body, [], self._usage())
        _send_piece(handler, b"data: [DONE]\n\n")
        handler.wfile.write(b"0\r\n\r\n")

    def _send_chunk(self, handler, body: dict, choices: list, usage: dict | None = None) -> None:
        chunk = {"id": f"chatcmpl-{self._calls}", "object": "chat.completion.chunk", "created": 1_765_000_000,
                 "model": body["model"], "system_fingerprint": "fp_scripted", "choices": choices, "usage": usage}
        _send_piece(handler, f"data: {json.dumps(chunk)}\n\n".encode())


def _deltas(turn: list[dict], calls: list[dict]):
    """(delta, finish_reason) pairs as OpenAI streams them: role, text pieces, each call then its argument pieces."""
    yield {"role": "assistant", "content": ""}, None
    for item in turn:
        if "text" in item:
            for start in range(0, len(item["text"]), PIECE):
                yield {"content": item["text"][start : start + PIECE]}, None
    for index, made in enumerate(calls):
        opening = {"index": index, "id": made["id"], "type": "function",
                   "function": {"name": made["function"]["name"], "arguments": ""}}  # fmt: skip
        yield {"tool_calls": [opening]}, None
        arguments = made["function"]["arguments"]
        for start in range(0, len(arguments), PIECE):
            yield {"tool_calls": [{"index": index, "function": {"arguments": arguments[start : start + PIECE]}}]}, None
    yield {}, "tool_calls" if calls else "stop"


def _send_piece(handler: BaseHTTPRequestHandler, data: bytes) -> None:
    handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
    handler.wfile.flush()


def _send_json(handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict | None = None) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
