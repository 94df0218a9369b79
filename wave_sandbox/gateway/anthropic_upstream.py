"""The Anthropic upstream: forwards a step's request to the real Messages API with the host's key.

The container only holds its step token; the real key is added here, on the host, and sent to the
upstream base URL and nowhere else (it is one of the upstream's ``secrets``, which transcripts are
scrubbed of). Streams are passed on chunk by chunk as they arrive. Overload (529), rate limits (429)
and connection failures are retried a bounded number of times, honouring ``retry-after``, before
the container sees them.

The HTTP client is ``httpx2``, the fork of httpx the anthropic SDK itself depends on (so it is
already installed): one client per upstream keeps a pool of keep-alive connections (one TLS
handshake per connection, not per request), tunnels through the host's HTTPS proxy with CONNECT
and streams responses. The client is locked down to what the strict gateway sends: requests are
built here from the rebuilt upstream request (no client default headers), no cookies are kept, no
redirect is followed, and nothing is read from the environment but the proxy the caller passes.
"""

from __future__ import annotations

import email.utils
import http.cookiejar
import random
import socket
import ssl
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import httpx2

from wave_sandbox.errors import ModelSpecError
from wave_sandbox.gateway.upstream import UpstreamRequest, UpstreamResponse, error_response

__all__ = ["DEFAULT_ANTHROPIC_BASE_URL", "AnthropicUpstream", "RetryPolicy", "https_proxy_for", "parse_retry_after"]

DEFAULT_ANTHROPIC_BASE_URL = "https://api.anthropic.com"
DEFAULT_ANTHROPIC_VERSION = "2023-06-01"
RETRYABLE_STATUSES = frozenset({429, 529})
# The gateway rebuilds what it forwards (request_allowlist): no anthropic-beta, no query, no other header.
_FORWARDED_REQUEST_HEADERS = ("anthropic-version",)
_RELAYED_RESPONSE_HEADERS = frozenset(
    {"content-type", "request-id", "retry-after", "retry-after-ms", "x-should-retry"}
)
# Idle keep-alive connections kept per upstream, and how long one may idle before it is dropped.
_KEEPALIVE_CONNECTIONS = 16
_KEEPALIVE_EXPIRY_S = 20.0
# The head and the body go out in two writes: without TCP_NODELAY a reused connection waits for the
# delayed ACK of the head (40 ms per request on Linux) before sending the body.
_SOCKET_OPTIONS = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1), (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]


class _Headers(Protocol):
    def get(self, name: str) -> str | None: ...


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the gateway tries before the container sees a 429, a 529 or a connection failure."""

    max_attempts: int = 4
    backoff_base_s: float = 0.5
    max_backoff_s: float = 8.0
    # A longer retry-after is passed on to the container rather than waited out here.
    max_retry_after_s: float = 60.0


def parse_retry_after(headers: _Headers) -> float | None:
    """Seconds the server asks us to wait (``retry-after-ms``, ``retry-after`` seconds or date)."""
    milliseconds = headers.get("retry-after-ms")
    seconds = headers.get("retry-after")
    try:
        if milliseconds is not None:
            return max(0.0, float(milliseconds) / 1000)
        if seconds is not None:
            return max(0.0, float(seconds))
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(seconds) if seconds else None
    return None if parsed is None else max(0.0, email.utils.mktime_tz(parsed) - time.time())


def https_proxy_for(base_url: str, environ: Mapping[str, str]) -> str | None:
    """The HTTPS proxy the host's environment asks for, unless NO_PROXY exempts the upstream.

    Only an https upstream is proxied (through a CONNECT tunnel, so the proxy never sees the key).
    """
    parts = urlsplit(base_url)
    proxy = environ.get("HTTPS_PROXY") or environ.get("https_proxy")
    if parts.scheme != "https" or not proxy:
        return None
    host = (parts.hostname or "").lower()
    for entry in (environ.get("NO_PROXY") or environ.get("no_proxy") or "").split(","):
        entry = entry.strip().lower()
        if entry == "*":
            return None
        domain = entry.lstrip("*").lstrip(".")
        if domain and (host == domain or host.endswith("." + domain)):
            return None
    return proxy


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _stream_chunks(response: httpx2.Response) -> Iterator[bytes]:
    """The body as it arrives; a broken stream raises OSError, as the gateway's relay expects."""
    try:
        yield from response.iter_bytes()
    except httpx2.RequestError as exc:
        raise ConnectionError(_describe(exc)) from exc


def _no_cookies() -> http.cookiejar.CookieJar:
    """A jar that keeps nothing: a cookie set by the upstream for one step never reaches another."""
    return http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


def _client(timeout_s: float, proxy_url: str | None) -> httpx2.Client:
    transport = httpx2.HTTPTransport(
        verify=ssl.create_default_context(),  # the host's trust store, as the standard library sees it
        proxy=proxy_url,
        trust_env=False,  # the proxy comes from the caller (the host's environment), nothing else from it
        limits=httpx2.Limits(
            max_connections=None,  # the gateway's worker pool already bounds concurrent requests
            max_keepalive_connections=_KEEPALIVE_CONNECTIONS,
            keepalive_expiry=_KEEPALIVE_EXPIRY_S,
        ),
        socket_options=_SOCKET_OPTIONS,
    )
    return httpx2.Client(
        transport=transport, trust_env=False, cookies=_no_cookies(), follow_redirects=False, timeout=httpx2.Timeout(timeout_s)
    )


class AnthropicUpstream:
    """Forwards to the Messages API at ``base_url`` with ``api_key``; thread-safe (one pooled client)."""

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_ANTHROPIC_BASE_URL,
        retry: RetryPolicy = RetryPolicy(),
        timeout_s: float = 600.0,
        proxy_url: str | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ModelSpecError(f"the Anthropic base URL {base_url!r} is not an http(s) URL; fix it or unset it")
        self.base_url = base_url.rstrip("/")
        self.description = f"the Anthropic API at {self.base_url}"
        # No key (an Anthropic-compatible local server): nothing to scrub, no x-api-key sent.
        self.secrets: tuple[str, ...] = (api_key,) if api_key else ()
        self._api_key = api_key
        self._retry = retry
        self._client = _client(timeout_s, proxy_url)

    def close(self) -> None:
        """Close the pooled connections; the upstream cannot send afterwards."""
        self._client.close()

    def send(self, request: UpstreamRequest) -> UpstreamResponse:
        """Forward ``request``, retrying what is worth retrying; failures become API error responses."""
        for attempt in range(1, self._retry.max_attempts + 1):
            outcome = self._attempt(request)
            delay = self._retry_delay(outcome, attempt)
            if delay is None:
                return self._finish(outcome)
            if isinstance(outcome, httpx2.Response):
                outcome.close()
            if request.cancelled.wait(delay):
                break
        return error_response(503, "api_error", "wave-sandbox gateway is stopping; the run is ending")

    def _attempt(self, request: UpstreamRequest) -> httpx2.Response | Exception:
        outgoing = httpx2.Request("POST", self._url(request), headers=self._headers(request), content=request.body)
        try:
            return self._client.send(outgoing, stream=True)
        except httpx2.RequestError as exc:
            return exc

    def _retry_delay(self, outcome: httpx2.Response | Exception, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give this outcome to the container."""
        if attempt >= self._retry.max_attempts:
            return None
        backoff = min(self._retry.backoff_base_s * 2 ** (attempt - 1), self._retry.max_backoff_s)
        if isinstance(outcome, Exception):
            return backoff * random.uniform(0.75, 1.0)
        if outcome.status_code not in RETRYABLE_STATUSES:
            return None
        asked = parse_retry_after(outcome.headers)
        if asked is None:
            return backoff * random.uniform(0.75, 1.0)
        return asked if asked <= self._retry.max_retry_after_s else None

    def _finish(self, outcome: httpx2.Response | Exception) -> UpstreamResponse:
        if isinstance(outcome, Exception):
            return error_response(
                502, "api_error", f"wave-sandbox gateway could not reach {self.description}: {_describe(outcome)}"
            )
        headers = [(name.lower(), value) for name, value in outcome.headers.items() if self._relayed(name)]
        content_type = outcome.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == "text/event-stream":
            return UpstreamResponse(outcome.status_code, headers, chunks=_stream_chunks(outcome), on_close=outcome.close)
        try:
            body = outcome.read()
        except httpx2.RequestError as exc:
            return self._finish(exc)
        finally:
            outcome.close()  # a wholly read response gives its connection back to the pool
        return UpstreamResponse(outcome.status_code, headers, body)

    @staticmethod
    def _relayed(name: str) -> bool:
        lowered = name.lower()
        return lowered in _RELAYED_RESPONSE_HEADERS or lowered.startswith("anthropic-")

    def _url(self, request: UpstreamRequest) -> str:
        url = self.base_url + request.path
        return f"{url}?{request.query}" if request.query else url

    def _headers(self, request: UpstreamRequest) -> dict[str, str]:
        headers = {name: request.headers[name] for name in _FORWARDED_REQUEST_HEADERS if name in request.headers}
        headers.setdefault("anthropic-version", DEFAULT_ANTHROPIC_VERSION)
        headers["accept-encoding"] = "identity"  # relayed bytes are never re-encoded, so none are asked for
        headers["content-type"] = "application/json"
        headers["user-agent"] = "wave-sandbox-gateway"
        if self._api_key:
            headers["x-api-key"] = self._api_key
        return headers
