"""Server-sent events as the Messages API uses them: encoding, incremental parsing, and the event
sequence of a whole message (what the scripted model streams).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["SSEEvent", "SSEParser", "encode_sse_event", "message_stream_events"]

# Small pieces make the client really reassemble text and tool input, as it must with the real API.
DELTA_PIECE_CHARS = 48


@dataclass(frozen=True)
class SSEEvent:
    """One decoded event: its name (None when the stream gave none) and its data text."""

    event: str | None
    data: str

    def decoded_data(self) -> Any:
        """The data as JSON, or the raw text when it is not JSON."""
        try:
            return json.loads(self.data)
        except ValueError:
            return self.data

    def as_record(self) -> dict[str, Any]:
        """The form kept in transcripts."""
        return {"event": self.event, "data": self.decoded_data()}


def encode_sse_event(name: str, data: dict[str, Any]) -> bytes:
    """One event in wire form, as the real API writes it."""
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class SSEParser:
    """Decodes a byte stream into events, however the bytes are split into chunks."""

    def __init__(self) -> None:
        self._buffer = b""
        self._event: str | None = None
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """The events completed by ``chunk``."""
        self._buffer += chunk
        events: list[SSEEvent] = []
        while True:
            line, separator, rest = self._buffer.partition(b"\n")
            if not separator:
                return events
            self._buffer = rest
            event = self._take_line(line.rstrip(b"\r").decode("utf-8", "replace"))
            if event is not None:
                events.append(event)

    def finish(self) -> list[SSEEvent]:
        """Events left when the stream ends without a final blank line."""
        events = self.feed(b"\n") if self._buffer else []
        final = self._take_line("")
        return events + ([final] if final is not None else [])

    def _take_line(self, line: str) -> SSEEvent | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment, used as a keep-alive
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None

    def _dispatch(self) -> SSEEvent | None:
        if self._event is None and not self._data:
            return None
        event = SSEEvent(self._event, "\n".join(self._data))
        self._event, self._data = None, []
        return event


def _pieces(text: str) -> Iterator[str]:
    for start in range(0, len(text), DELTA_PIECE_CHARS):
        yield text[start : start + DELTA_PIECE_CHARS]


def _block_events(index: int, block: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    if block["type"] == "tool_use":
        opening = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
        delta_kind, delta_field = "input_json_delta", "partial_json"
        body = json.dumps(block["input"], ensure_ascii=False)
    else:
        opening, delta_kind, delta_field, body = {"type": "text", "text": ""}, "text_delta", "text", block["text"]
    yield "content_block_start", {"type": "content_block_start", "index": index, "content_block": opening}
    for piece in _pieces(body):
        delta = {"type": delta_kind, delta_field: piece}
        yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
    yield "content_block_stop", {"type": "content_block_stop", "index": index}


def message_stream_events(message: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The (name, data) events that stream ``message`` (text and tool_use blocks) exactly."""
    usage = message["usage"]
    started = dict(message, content=[], stop_reason=None, stop_sequence=None)
    started["usage"] = dict(usage, output_tokens=min(1, usage["output_tokens"]))
    yield "message_start", {"type": "message_start", "message": started}
    yield "ping", {"type": "ping"}
    for index, block in enumerate(message["content"]):
        yield from _block_events(index, block)
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]}
    yield "message_delta", {"type": "message_delta", "delta": delta, "usage": {"output_tokens": usage["output_tokens"]}}
    yield "message_stop", {"type": "message_stop"}
