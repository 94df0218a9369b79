"""The upstream contract: what the gateway hands a model backend and what it gets back.

Three backends implement it: ``ScriptedUpstream`` (answers itself from a script file),
``AnthropicUpstream`` (forwards to the real API, or an Anthropic-compatible server, with the host's
key) and ``OpenAIUpstream`` (translates to an OpenAI-compatible server). The gateway does everything
else (tokens, budgets, transcripts, usage), so a backend only turns one request into one response.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "MESSAGES_PATH",
    "COUNT_TOKENS_PATH",
    "UpstreamRequest",
    "UpstreamResponse",
    "Upstream",
    "api_error_body",
    "json_response",
    "error_response",
    "new_request_id",
]

MESSAGES_PATH = "/v1/messages"
COUNT_TOKENS_PATH = "/v1/messages/count_tokens"


def new_request_id() -> str:
    """An id in the shape of the real API's ``request-id`` header."""
    return "req_wsb_" + secrets.token_hex(12)


@dataclass(frozen=True)
class UpstreamRequest:
    """One authenticated, admitted request of a step; ``headers`` never hold the step token."""

    step_id: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    payload: Any
    # Set when the gateway stops, so a backend can abandon a delay or a retry wait.
    cancelled: threading.Event = field(default_factory=threading.Event)


@dataclass
class UpstreamResponse:
    """A whole body (``body``) or a stream of SSE bytes (``chunks``), with the headers to relay."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    chunks: Iterator[bytes] | None = None
    on_close: Callable[[], None] | None = None

    @property
    def is_stream(self) -> bool:
        """True when the body arrives in pieces that must be passed on as they come."""
        return self.chunks is not None

    def close(self) -> None:
        """Release what the backend holds for this response (a connection); idempotent."""
        closer, self.on_close = self.on_close, None
        if closer is not None:
            closer()


class Upstream(Protocol):
    """A model backend behind the gateway."""

    description: str
    """One line for notices, e.g. ``scripted model from demo.yaml``."""

    secrets: tuple[str, ...]
    """Values that must never be written anywhere (the real API key)."""

    def send(self, request: UpstreamRequest) -> UpstreamResponse:
        """Answer one request; errors come back as API error responses, never as exceptions."""
        ...


def api_error_body(error_type: str, message: str, request_id: str | None = None) -> dict[str, Any]:
    """The Messages API's error JSON, which the anthropic SDK turns into its typed exceptions."""
    return {"type": "error", "error": {"type": error_type, "message": message}, "request_id": request_id}


def json_response(
    status: int, payload: Any, extra_headers: list[tuple[str, str]] | None = None, request_id: str | None = None
) -> UpstreamResponse:
    """A complete JSON response."""
    headers = [("content-type", "application/json"), ("request-id", request_id or new_request_id())]
    return UpstreamResponse(status, headers + (extra_headers or []), json.dumps(payload).encode())


def error_response(status: int, error_type: str, message: str) -> UpstreamResponse:
    """An API error of the gateway's own; ``x-should-retry: false`` stops the SDK retrying it, whatever the status."""
    request_id = new_request_id()
    no_retry = [("x-should-retry", "false")]
    return json_response(status, api_error_body(error_type, message, request_id), no_retry, request_id)
