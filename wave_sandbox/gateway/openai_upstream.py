"""The OpenAI upstream: a step's Messages request answered by an OpenAI-compatible server.

The agent in the container speaks the Messages API whatever the model; this upstream translates
each admitted request to Chat Completions (``openai_requests``), sends it to ``base_url`` +
``/chat/completions`` with the host's key (when there is one: local servers need none), and
translates the answer back (``openai_responses``, ``openai_stream``), streamed or not. It reuses
the Anthropic upstream's HTTP side whole: the pooled, locked-down client, the proxy rule, and the
bounded retries of 429 and connection failures honouring ``retry-after``.

Servers: OpenAI's API (the default address), and vLLM, Ollama or llama.cpp's server at
``--upstream-url`` (``http://127.0.0.1:8080`` or ``.../v1``; a URL without a path gets ``/v1``).
An upstream marked local (``--upstream-local``) gets constrained tool calls and their recovery from
JSON text. ``count_tokens`` has no Chat Completions equivalent; it is answered with an estimate.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import urlsplit

from wave_sandbox.errors import ModelSpecError
from wave_sandbox.gateway.anthropic_upstream import AnthropicUpstream, RetryPolicy
from wave_sandbox.gateway.openai_requests import ChatDialect, chat_request
from wave_sandbox.gateway.openai_responses import chat_error_to_messages, completion_to_message, recovered_content
from wave_sandbox.gateway.openai_stream import (
    ChatStreamTranslator,
    gathered_message,
    recovered_stream,
    translated_stream,
)
from wave_sandbox.gateway.scripted import estimate_tokens, request_text
from wave_sandbox.gateway.upstream import (
    COUNT_TOKENS_PATH,
    UpstreamRequest,
    UpstreamResponse,
    api_error_body,
    json_response,
    new_request_id,
)

__all__ = ["DEFAULT_OPENAI_BASE_URL", "OpenAIUpstream", "openai_base_url"]

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
CHAT_COMPLETIONS_PATH = "/chat/completions"
_OPENAI_API_HOST = "api.openai.com"
_KEPT_HEADERS = frozenset({"retry-after", "retry-after-ms", "x-should-retry"})
_SSE_HEADERS = [("content-type", "text/event-stream; charset=utf-8"), ("cache-control", "no-cache")]


def openai_base_url(url: str) -> str:
    """``url`` as OpenAI clients take it (ending in the API version); a bare ``http://host:port`` gets ``/v1``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ModelSpecError(f"the OpenAI-compatible upstream URL {url!r} is not an http(s) URL; fix --upstream-url")
    return url.rstrip("/") + ("/v1" if parts.path in ("", "/") else "")


class OpenAIUpstream(AnthropicUpstream):
    """Answers Messages requests from an OpenAI-compatible server; thread-safe (one pooled client)."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str = DEFAULT_OPENAI_BASE_URL,
        local: bool = False,
        retry: RetryPolicy = RetryPolicy(),
        timeout_s: float = 600.0,
        proxy_url: str | None = None,
    ) -> None:
        super().__init__(api_key or "", openai_base_url(base_url), retry, timeout_s, proxy_url)
        self.local = local
        self.description = f"the OpenAI-compatible server at {self.base_url}" + (" (marked local)" if local else "")
        self.secrets = (api_key,) if api_key else ()
        official = urlsplit(self.base_url).hostname == _OPENAI_API_HOST
        self._dialect = ChatDialect("max_completion_tokens" if official else "max_tokens", local)

    def send(self, request: UpstreamRequest) -> UpstreamResponse:
        """Translate, forward with retries, translate back; failures are Messages API error responses."""
        if request.path == COUNT_TOKENS_PATH:
            return json_response(200, {"input_tokens": estimate_tokens(request_text(request.payload))})
        body = json.dumps(chat_request(request.payload, self._dialect)).encode()
        raw = super().send(dataclasses.replace(request, path=CHAT_COMPLETIONS_PATH, query="", body=body))
        try:
            return self._translated(raw, request.payload)
        except BaseException:
            raw.close()
            raise

    def _headers(self, request: UpstreamRequest) -> dict[str, str]:
        headers = {"accept-encoding": "identity", "content-type": "application/json"}
        headers["user-agent"] = "wave-sandbox-gateway"
        if self._api_key:
            headers["authorization"] = f"Bearer {self._api_key}"
        return headers

    def _translated(self, raw: UpstreamResponse, payload: dict[str, Any]) -> UpstreamResponse:
        if raw.status != 200:
            return self._error(raw)
        translator = ChatStreamTranslator(payload.get("model"), self.description, self._usage_estimate(payload))
        wants_stream = bool(payload.get("stream"))
        if raw.is_stream and not self.local and wants_stream:
            headers = _SSE_HEADERS + [("request-id", new_request_id())] + self._kept(raw)
            return UpstreamResponse(200, headers, chunks=translated_stream(raw.chunks, translator), on_close=raw.close)
        message = self._whole_message(raw, payload, translator)
        if message.get("type") == "error":
            return json_response(500, message)
        if wants_stream:
            headers = _SSE_HEADERS + [("request-id", new_request_id())]
            return UpstreamResponse(200, headers, chunks=recovered_stream(message))
        return json_response(200, message)

    def _whole_message(self, raw: UpstreamResponse, payload: dict[str, Any], translator: ChatStreamTranslator) -> dict:
        names = {tool["name"] for tool in payload.get("tools") or ()} if self.local else set()
        try:
            if raw.is_stream:
                return gathered_message(raw.chunks, translator, names)
            completion = _json_or_none(raw.body)
        finally:
            raw.close()
        if not isinstance(completion, dict):
            error = f"{self.description} answered with a body that is not a Chat Completions response"
            return api_error_body("api_error", error)
        message = completion_to_message(completion, payload.get("model"), self._usage_estimate(payload))
        return dict(message, content=recovered_content(message["content"], names)) if self.local else message

    def _error(self, raw: UpstreamResponse) -> UpstreamResponse:
        try:
            data = b"".join(raw.chunks) if raw.is_stream else raw.body
        finally:
            raw.close()
        body = _json_or_none(data)
        if body is None and data.strip():
            body = data.decode("utf-8", "replace").strip()  # not JSON: a proxy's or a crashed server's page
        if isinstance(body, dict) and body.get("type") == "error":
            return json_response(raw.status, body, self._kept(raw))  # the gateway's own answer (unreachable, stopping)
        error_type, message = chat_error_to_messages(raw.status, body, self.description)
        request_id = new_request_id()
        return json_response(raw.status, api_error_body(error_type, message, request_id), self._kept(raw), request_id)

    @staticmethod
    def _kept(raw: UpstreamResponse) -> list[tuple[str, str]]:
        return [(name, value) for name, value in raw.headers if name in _KEPT_HEADERS]

    @staticmethod
    def _usage_estimate(payload: dict[str, Any]):
        input_tokens = estimate_tokens(request_text(payload))

        def estimate(output_text: str) -> dict[str, int]:
            return {"input_tokens": input_tokens, "output_tokens": estimate_tokens(output_text),
                    "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}  # fmt: skip

        return estimate


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None
