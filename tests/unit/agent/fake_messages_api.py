"""A small local HTTP server that plays the Messages API for agent tests: scripted replies, recorded requests.

Only the model is fake: the agent talks real HTTP to it through the real anthropic SDK.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from wave_sandbox.gateway.sse import encode_sse_event, message_stream_events


@dataclass
class ScriptedReply:
    """One answer: an HTTP status, a JSON body, and an optional delay before it is sent."""

    body: dict
    status: int = 200
    delay_s: float = 0.0


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict


def message_reply(*content: dict, stop_reason: str | None = None, usage: tuple[int, int] = (100, 20)) -> ScriptedReply:
    """A 200 Messages API response; stop_reason defaults to tool_use when a block calls a tool."""
    if stop_reason is None:
        stop_reason = "tool_use" if any(block["type"] == "tool_use" for block in content) else "end_turn"
    return ScriptedReply(
        {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": "claude-fake",
            "content": list(content),
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
        }
    )


def text_block(text: str) -> dict:
    return {"type": "text", "text": text}


def tool_use_block(tool_use_id: str, name: str, tool_input: dict) -> dict:
    return {"type": "tool_use", "id": tool_use_id, "name": name, "input": tool_input}


def error_reply(status: int, error_type: str, message: str) -> ScriptedReply:
    return ScriptedReply({"type": "error", "error": {"type": error_type, "message": message}}, status=status)


@dataclass
class FakeMessagesApi:
    """Serves the scripted replies in order on POST /v1/messages; once used up, answers "Done"."""

    replies: list[ScriptedReply]
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self):
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self))
        self.server.daemon_threads = True
        # A short poll interval: stop() waits for one, and every test stops a server.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeMessagesApi:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, request: RecordedRequest) -> ScriptedReply:
        with self.lock:
            self.requests.append(request)
            if self.replies:
                return self.replies.pop(0)
        return message_reply(text_block("Done"))


def make_handler(api: FakeMessagesApi) -> type[BaseHTTPRequestHandler]:
    class MessagesHandler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("content-length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            headers = {key.lower(): value for key, value in self.headers.items()}
            reply = api.answer(RecordedRequest(self.path, headers, body))
            time.sleep(reply.delay_s)
            streamed = body.get("stream") is True and reply.status == 200
            payload = _stream_bytes(reply.body) if streamed else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("content-type", "text/event-stream" if streamed else "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the agent gave up waiting (a timeout test); nobody is listening any more

        def log_message(self, format, *args):
            pass  # keep the test output clean

    return MessagesHandler


def _stream_bytes(message: dict) -> bytes:
    """A streamed request gets the message as the real API streams it (the events the scripted model sends)."""
    full = dict(message, usage=dict({"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}, **message["usage"]))
    return b"".join(encode_sse_event(name, data) for name, data in message_stream_events(full))
