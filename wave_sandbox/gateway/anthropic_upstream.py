"""The Anthropic upstream: forwards a step's request to the real Messages API with the host's key.

The container only holds its step token; the real key is added here, on the host, and sent to the
upstream base URL and nowhere else (it is one of the upstream's ``secrets``, which transcripts are
scrubbed of). Streams are passed on chunk by chunk as they arrive. Overload (529), rate limits (429)
and connection failures are retried a bounded number of times, honouring ``retry-after``, before
the container sees them. Only the standard library is used, so the CLI starts fast.
"""

from __future__ import annotations

import base64
import email.utils
import http.client
import random
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email.message import Message
from urllib.parse import unquote, urlsplit

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
_STREAM_READ_BYTES = 65536
_Exchange = tuple[http.client.HTTPConnection, http.client.HTTPResponse]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the gateway tries before the container sees a 429, a 529 or a connection failure."""

    max_attempts: int = 4
    backoff_base_s: float = 0.5
    max_backoff_s: float = 8.0
    # A longer retry-after is passed on to the container rather than waited out here.
    max_retry_after_s: float = 60.0


def parse_retry_after(headers: Message) -> float | None:
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
    """The HTTPS proxy the host's environment asks for, unless NO_PROXY exempts the upstream."""
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


def _read_chunks(response: http.client.HTTPResponse) -> Iterator[bytes]:
    while chunk := response.read1(_STREAM_READ_BYTES):
        yield chunk


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class AnthropicUpstream:
    """Forwards to the Messages API at ``base_url`` with ``api_key``; thread-safe (a connection per request)."""

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
        self.secrets: tuple[str, ...] = (api_key,)
        self._api_key = api_key
        self._parts = parts
        self._retry = retry
        self._timeout_s = timeout_s
        self._proxy = urlsplit(proxy_url) if proxy_url else None

    def send(self, request: UpstreamRequest) -> UpstreamResponse:
        """Forward ``request``, retrying what is worth retrying; failures become API error responses."""
        for attempt in range(1, self._retry.max_attempts + 1):
            outcome = self._attempt(request)
            delay = self._retry_delay(outcome, attempt)
            if delay is None:
                return self._finish(outcome)
            if isinstance(outcome, tuple):
                outcome[0].close()
            if request.cancelled.wait(delay):
                break
        return error_response(503, "api_error", "wave-sandbox gateway is stopping; the run is ending")

    def _attempt(self, request: UpstreamRequest) -> _Exchange | Exception:
        connection = self._connection()
        try:
            connection.request("POST", self._target(request), body=request.body, headers=self._headers(request))
            return connection, connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            return exc

    def _retry_delay(self, outcome: _Exchange | Exception, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give this outcome to the container."""
        if attempt >= self._retry.max_attempts:
            return None
        backoff = min(self._retry.backoff_base_s * 2 ** (attempt - 1), self._retry.max_backoff_s)
        if isinstance(outcome, Exception):
            return backoff * random.uniform(0.75, 1.0)
        response = outcome[1]
        if response.status not in RETRYABLE_STATUSES:
            return None
        asked = parse_retry_after(response.headers)
        if asked is None:
            return backoff * random.uniform(0.75, 1.0)
        return asked if asked <= self._retry.max_retry_after_s else None

    def _finish(self, outcome: _Exchange | Exception) -> UpstreamResponse:
        if isinstance(outcome, Exception):
            return error_response(
                502, "api_error", f"wave-sandbox gateway could not reach {self.description}: {_describe(outcome)}"
            )
        connection, response = outcome
        headers = [(name.lower(), value) for name, value in response.getheaders() if self._relayed(name)]
        if response.headers.get_content_type() == "text/event-stream":
            return UpstreamResponse(response.status, headers, chunks=_read_chunks(response), on_close=connection.close)
        try:
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            return self._finish(exc)
        finally:
            connection.close()
        return UpstreamResponse(response.status, headers, body)

    @staticmethod
    def _relayed(name: str) -> bool:
        lowered = name.lower()
        return lowered in _RELAYED_RESPONSE_HEADERS or lowered.startswith("anthropic-")

    def _target(self, request: UpstreamRequest) -> str:
        path = self._parts.path.rstrip("/") + request.path
        return f"{path}?{request.query}" if request.query else path

    def _headers(self, request: UpstreamRequest) -> dict[str, str]:
        headers = {name: request.headers[name] for name in _FORWARDED_REQUEST_HEADERS if name in request.headers}
        headers.setdefault("anthropic-version", DEFAULT_ANTHROPIC_VERSION)
        headers["content-type"] = "application/json"
        headers["user-agent"] = "wave-sandbox-gateway"
        headers["x-api-key"] = self._api_key
        return headers

    def _connection(self) -> http.client.HTTPConnection:
        host, port = self._parts.hostname or "", self._parts.port
        if self._parts.scheme == "http":
            return http.client.HTTPConnection(host, port, timeout=self._timeout_s)
        import ssl  # only when a TLS upstream is used: keeps CLI start-up lean

        context = ssl.create_default_context()
        if self._proxy is None:
            return http.client.HTTPSConnection(host, port, timeout=self._timeout_s, context=context)
        proxy_host, proxy_port = self._proxy.hostname or "", self._proxy.port
        tunnel = http.client.HTTPSConnection(proxy_host, proxy_port, timeout=self._timeout_s, context=context)
        tunnel.set_tunnel(host, port or 443, headers=self._proxy_headers())
        return tunnel

    def _proxy_headers(self) -> dict[str, str]:
        proxy = self._proxy
        if proxy is None or proxy.username is None:
            return {}
        credentials = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}".encode()
        return {"Proxy-Authorization": "Basic " + base64.b64encode(credentials).decode()}
