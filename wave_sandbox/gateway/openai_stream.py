"""OpenAI's streamed Chat Completions chunks -> the Messages API's SSE events.

Text is passed on as it arrives (``text_delta``). Tool calls are gathered and sent whole when the
stream ends, one ``tool_use`` block each with its input in one ``input_json_delta``: the SDK parses
every input delta as partial JSON, so a model's malformed or interleaved arguments must be checked
before the first byte of them goes out. The last chunk's usage (``stream_options.include_usage``)
becomes the ``message_delta`` usage, with ``input_tokens`` and the cache fields, which the SDK and
the gateway's ledger both read as the final totals. A server that reports no usage gets an estimate.

For an upstream marked local the whole answer is gathered first, then a JSON-text tool call is
recovered and the message streamed (``sse.message_stream_events``) as the scripted model streams one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from wave_sandbox.gateway.openai_responses import (
    assembled_message,
    chat_error_to_messages,
    message_usage,
    new_message_id,
    recovered_content,
    tool_use_block,
)
from wave_sandbox.gateway.sse import SSEParser, encode_sse_event, message_stream_events

__all__ = ["ChatStreamTranslator", "translated_stream", "gathered_message", "recovered_stream"]

Event = tuple[str, dict[str, Any]]
DONE = "[DONE]"


class ChatStreamTranslator:
    """Follows one Chat Completions stream; ``feed`` returns the Messages events each chunk makes."""

    def __init__(self, model: Any, upstream: str, estimate_usage: Callable[[str], dict[str, int]]) -> None:
        self.model = model
        self.upstream = upstream
        self.error: dict[str, Any] | None = None
        self._estimate_usage = estimate_usage
        self._content: list[dict[str, Any]] = []
        self._text_open = False
        self._calls: dict[int, dict[str, str]] = {}
        self._finish_reason: Any = None
        self._usage: dict[str, int] | None = None
        self._message_id = new_message_id()

    def start(self) -> list[Event]:
        usage = {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                 "cache_read_input_tokens": 0}  # fmt: skip
        started = {"id": self._message_id, "type": "message", "role": "assistant", "model": self.model,
                   "content": [], "stop_reason": None, "stop_sequence": None, "usage": usage}  # fmt: skip
        return [("message_start", {"type": "message_start", "message": started}), ("ping", {"type": "ping"})]

    def feed(self, chunk: Any) -> list[Event]:
        """The events one decoded chunk makes (none for keep-alives and unknown shapes)."""
        if not isinstance(chunk, dict) or self.error is not None:
            return []
        if "error" in chunk:
            return self._failed(chunk)
        self._usage = message_usage(chunk.get("usage")) or self._usage
        choices = chunk.get("choices")
        choice = choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}
        self._finish_reason = choice.get("finish_reason") or self._finish_reason
        delta = choice.get("delta") if isinstance(choice.get("delta"), dict) else {}
        events = self._text(delta.get("content"))
        for call in delta.get("tool_calls") or ():
            events += self._tool_call_piece(call)
        return events

    def finish(self) -> list[Event]:
        """The closing events: open text closed, tool calls whole, stop reason and usage."""
        if self.error is not None:
            return []
        events = self._close_text()
        for index in sorted(self._calls):
            call = self._calls[index]
            events += self._tool_use_events(tool_use_block(call["id"], call["name"], call["arguments"]))
        message = self.message()
        delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
        events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": message["usage"]}))
        return events + [("message_stop", {"type": "message_stop"})]

    def message(self) -> dict[str, Any]:
        """The whole message streamed so far (after ``finish``: all of it)."""
        usage = self._usage or self._estimate_usage(json.dumps(self._content, ensure_ascii=False))
        return dict(assembled_message(list(self._content), self._finish_reason, usage, self.model), id=self._message_id)

    def _failed(self, chunk: dict[str, Any]) -> list[Event]:
        error_type, message = chat_error_to_messages(500, chunk, self.upstream)
        self.error = {"type": "error", "error": {"type": error_type, "message": message}}
        return [("error", self.error)]

    def _text(self, text: Any) -> list[Event]:
        if not isinstance(text, str) or not text:
            return []
        events: list[Event] = []
        if not self._text_open:
            self._content.append({"type": "text", "text": ""})
            self._text_open = True
            opening = {"type": "content_block_start", "index": self._index}
            events.append(("content_block_start", dict(opening, content_block={"type": "text", "text": ""})))
        self._content[-1]["text"] += text
        delta = {"type": "text_delta", "text": text}
        return events + [("content_block_delta", {"type": "content_block_delta", "index": self._index, "delta": delta})]

    def _tool_call_piece(self, call: Any) -> list[Event]:
        if not isinstance(call, dict):
            return []
        events = self._close_text()
        index = call.get("index") if isinstance(call.get("index"), int) else len(self._calls)
        gathered = self._calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
        function = call.get("function") if isinstance(call.get("function"), dict) else {}
        gathered["id"] = gathered["id"] or str(call.get("id") or "")
        gathered["name"] += str(function.get("name") or "")
        gathered["arguments"] += str(function.get("arguments") or "")
        return events

    def _close_text(self) -> list[Event]:
        if not self._text_open:
            return []
        self._text_open = False
        return [("content_block_stop", {"type": "content_block_stop", "index": self._index})]

    def _tool_use_events(self, block: dict[str, Any]) -> list[Event]:
        self._content.append(block)
        index = self._index
        opening = dict(block, input={})
        delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"], ensure_ascii=False)}
        return [
            ("content_block_start", {"type": "content_block_start", "index": index, "content_block": opening}),
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}),
            ("content_block_stop", {"type": "content_block_stop", "index": index}),
        ]

    @property
    def _index(self) -> int:
        return len(self._content) - 1


def _decoded_chunks(raw: Iterator[bytes]) -> Iterator[Any]:
    """The JSON chunks of an OpenAI SSE stream, up to ``data: [DONE]``."""
    parser = SSEParser()
    for piece in raw:
        for event in parser.feed(piece):
            if event.data.strip() == DONE:
                return
            yield event.decoded_data()
    for event in parser.finish():
        if event.data.strip() != DONE:
            yield event.decoded_data()


def translated_stream(raw: Iterator[bytes], translator: ChatStreamTranslator) -> Iterator[bytes]:
    """The Messages SSE bytes of an OpenAI stream, event by event as the chunks arrive."""
    yield b"".join(encode_sse_event(name, data) for name, data in translator.start())
    for chunk in _decoded_chunks(raw):
        events = translator.feed(chunk)
        if events:
            yield b"".join(encode_sse_event(name, data) for name, data in events)
    yield b"".join(encode_sse_event(name, data) for name, data in translator.finish())


def gathered_message(raw: Iterator[bytes], translator: ChatStreamTranslator, tool_names: set[str]) -> dict[str, Any]:
    """The whole answer of an OpenAI stream as one Messages response (or the error event's body),
    with a JSON-text tool call recovered (an upstream marked local)."""
    for chunk in _decoded_chunks(raw):
        translator.feed(chunk)
    if translator.error is not None:
        return translator.error
    translator.finish()
    message = translator.message()
    content = recovered_content(message["content"], tool_names)
    stop_reason = message["stop_reason"]
    if any(block["type"] == "tool_use" for block in content):
        stop_reason = "tool_use"
    elif stop_reason == "tool_use":
        stop_reason = "end_turn"  # a call announced but not given is no call
    return dict(message, content=content, stop_reason=stop_reason)


def recovered_stream(message: dict[str, Any]) -> Iterator[bytes]:
    """A gathered message (or error) streamed as the Messages API streams one."""
    if message.get("type") == "error":
        yield encode_sse_event("error", message)
        return
    for name, data in message_stream_events(message):
        yield encode_sse_event(name, data)
