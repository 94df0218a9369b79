"""The gateway: one small HTTP server per run between the steps' containers and the model.

For every request it takes the step from the token (x-api-key), caps the body, admits the request
against the step's and the run's budgets, forwards it to the upstream, relays the answer (streams as
they arrive), adds the usage to the step, and appends the exchange to the step's transcript.
It binds one address, the run network's gateway address, and refuses the wildcard addresses.

    gateway = Gateway(upstream, bind_host="172.30.0.1")
    gateway.start()
    token = gateway.register_step("triage", run_dir / "steps/triage/transcript.jsonl", Budget(max_requests=50))
    ...  # the container uses gateway.base_url and token
    gateway.revoke_step("triage"); gateway.usage("triage"); gateway.step_failure("triage")
    gateway.stop()
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wave_sandbox.errors import GatewayError
from wave_sandbox.gateway.budgets import Budget, BudgetLedger
from wave_sandbox.gateway.http_handler import GatewayHTTPServer, GatewayRequestHandler
from wave_sandbox.gateway.sse import SSEParser
from wave_sandbox.gateway.tokens import StepTokens
from wave_sandbox.gateway.transcripts import TranscriptWriter, exchange_record
from wave_sandbox.gateway.upstream import (
    COUNT_TOKENS_PATH,
    MESSAGES_PATH,
    Upstream,
    UpstreamRequest,
    UpstreamResponse,
    error_response,
)
from wave_sandbox.gateway.usage import StreamUsage, Usage, usage_from_message_json

__all__ = ["Gateway", "DEFAULT_MAX_REQUEST_BYTES"]

logger = logging.getLogger("wave_sandbox.gateway")

DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024
_ENDPOINTS = (MESSAGES_PATH, COUNT_TOKENS_PATH)
_STOP_JOIN_TIMEOUT_S = 2.0


def _checked_bind_host(bind_host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        address = ipaddress.ip_address(bind_host)
    except ValueError as exc:
        raise GatewayError(
            f"the gateway needs an IP address to bind, not {bind_host!r}; pass the run network's gateway address"
        ) from exc
    if address.is_unspecified:
        raise GatewayError(
            f"refusing to bind the gateway to {bind_host}: that listens on every interface, where other machines "
            "and other runs reach it; pass the run network's gateway address"
        )
    return address


class _ResponseRecorder:
    """Watches the bytes relayed to the client; when the response ends, reports it once.

    The report (tokens to the ledger, a line to the transcript) is made before the last bytes go
    out, so a client that has its whole answer always finds it counted.
    """

    def __init__(self, response: UpstreamResponse, report: Callable[[Any, Usage], None]) -> None:
        self._is_stream = response.is_stream
        self._report: Callable[[Any, Usage], None] | None = report
        self._body = b""
        self._parser = SSEParser()
        self._stream_usage = StreamUsage()
        self._events: list[dict[str, Any]] = []

    def observe(self, chunk: bytes) -> None:
        if not self._is_stream:
            self._body += chunk
            return
        for event in self._parser.feed(chunk):
            self._events.append(event.as_record())
            self._stream_usage.observe(self._events[-1]["data"])

    def finish(self) -> None:
        """Report the response as the transcript keeps it and the tokens it used (only the first call)."""
        report, self._report = self._report, None
        if report is not None:
            report(*self._transcript_form_and_usage())

    def _transcript_form_and_usage(self) -> tuple[Any, Usage]:
        if self._is_stream:
            self._events.extend(event.as_record() for event in self._parser.finish())
            return self._events, self._stream_usage.total()
        try:
            body = json.loads(self._body) if self._body else None
        except ValueError:
            body = self._body.decode("utf-8", "replace")
        return body, usage_from_message_json(body)


class Gateway:
    """Host-side Messages API gateway of one run; see the module docstring."""

    def __init__(
        self,
        upstream: Upstream,
        bind_host: str,
        port: int = 0,
        run_budget: Budget = Budget(),
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    ) -> None:
        self.upstream = upstream
        self._address = _checked_bind_host(bind_host)
        self._port = port
        self._max_request_bytes = max_request_bytes
        self._tokens = StepTokens()
        self._ledger = BudgetLedger(run_budget)
        self._transcripts = TranscriptWriter(self.known_secrets)
        self._transcript_paths: dict[str, Path] = {}
        self._pinned_models: dict[str, str | None] = {}
        self._stopping = threading.Event()
        self._server: GatewayHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> None:
        """Listen on the bind address and serve in a background thread."""
        if self._server is not None:
            raise GatewayError("the gateway is already started")
        self._stopping.clear()
        family = socket.AF_INET6 if self._address.version == 6 else socket.AF_INET
        try:
            self._server = GatewayHTTPServer((str(self._address), self._port), self, family)
        except OSError as exc:
            raise GatewayError(
                f"the gateway cannot listen on {self._address} port {self._port}: {exc.strerror or exc}. "
                "Check that the address belongs to this host and the port is free."
            ) from exc
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="wave-sandbox-gateway", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving: end waits, close the socket and open connections, join the thread (idempotent)."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        server.close_connections(_STOP_JOIN_TIMEOUT_S)
        thread.join(_STOP_JOIN_TIMEOUT_S)
        self._server = self._thread = None

    def __enter__(self) -> Gateway:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT``, the ANTHROPIC_BASE_URL a step's container gets."""
        if self._server is None:
            raise GatewayError("the gateway has no address until it is started")
        host = f"[{self._address}]" if self._address.version == 6 else str(self._address)
        return f"http://{host}:{self._server.server_port}"

    # Steps

    def register_step(
        self, step_id: str, transcript_path: Path, budget: Budget = Budget(), model: str | None = None
    ) -> str:
        """A token for ``step_id`` (any earlier one stops working); usage of earlier attempts is kept.

        With ``model``, the step may ask for that model only: a container must not pick a dearer one.
        """
        self._transcript_paths[step_id] = transcript_path
        self._pinned_models[step_id] = model
        self._ledger.open_step(step_id, budget)
        return self._tokens.issue(step_id)

    def revoke_step(self, step_id: str) -> None:
        """The step's token stops working; its usage and failure stay readable."""
        self._tokens.revoke(step_id)

    def usage(self, step_id: str) -> Usage:
        """Requests and tokens the step has used (zero for an unknown step)."""
        return self._ledger.usage(step_id)

    def run_usage(self) -> Usage:
        """Requests and tokens of all steps together."""
        return self._ledger.run_usage()

    def step_failure(self, step_id: str) -> str | None:
        """Why the gateway stopped the step (a budget it went over), or None."""
        return self._ledger.failure(step_id)

    def known_secrets(self) -> tuple[str, ...]:
        """Values that must never be written anywhere: the upstream's key and every step token."""
        return tuple(self.upstream.secrets) + self._tokens.ever_issued()

    # Serving (called from connection threads)

    def handle_post(self, handler: GatewayRequestHandler) -> None:
        """Serve one POST: route, authenticate, read the body, then run the exchange."""
        path, _, query = handler.path.partition("?")
        if path not in _ENDPOINTS:
            message = f"wave-sandbox gateway: no endpoint POST {path}; it serves {', '.join(_ENDPOINTS)}"
            return handler.send_whole(error_response(404, "not_found_error", message), close=True)
        step_id = self._tokens.step_for(handler.presented_token())
        if step_id is None:
            logger.warning("gateway refused a request from %s without a valid step token", handler.client_address[0])
            message = (
                "wave-sandbox gateway: missing or invalid step token in x-api-key; "
                "use the ANTHROPIC_API_KEY given to this step"
            )
            return handler.send_whole(error_response(401, "authentication_error", message), close=True)
        started = time.monotonic()
        body = handler.read_body(self._max_request_bytes)
        if isinstance(body, UpstreamResponse):
            request_note = {"omitted": "the request body was not read"}
            self._record(step_id, path, request_note, body.status, json.loads(body.body), Usage(), started)
            return handler.send_whole(body, close=True)
        self._exchange(handler, step_id, path, query, body, started)

    def _exchange(
        self, handler: GatewayRequestHandler, step_id: str, path: str, query: str, body: bytes, started: float
    ) -> None:
        payload, response = self._admit_and_send(step_id, path, query, handler.forwardable_headers(), body)

        def report(transcript_response: Any, tokens: Usage) -> None:
            self._ledger.record_tokens(step_id, tokens)
            self._record(step_id, path, payload, response.status, transcript_response, tokens, started)

        recorder = _ResponseRecorder(response, report)
        try:
            handler.send_relayed(response, recorder.observe, before_end=recorder.finish)
        finally:
            response.close()
            recorder.finish()  # a response cut short (client gone, upstream broke) is still counted

    def _admit_and_send(
        self, step_id: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[Any, UpstreamResponse]:
        """The decoded request and the response to relay: the upstream's, or a refusal."""
        try:
            payload = json.loads(body)
        except ValueError as exc:
            problem = f"the request body is not valid JSON: {exc}"
            return body.decode("utf-8", "replace"), error_response(400, "invalid_request_error", problem)
        refusal = self._model_refusal(step_id, payload) or self._ledger.admit(step_id)
        if refusal is not None:
            logger.warning("gateway stopped a request: %s", refusal)
            return payload, error_response(403, "permission_error", f"wave-sandbox: {refusal}")
        request = UpstreamRequest(step_id, path, query, headers, body, payload, self._stopping)
        try:
            return payload, self.upstream.send(request)
        except Exception:  # a bug in an upstream must answer the step, not kill the connection thread
            logger.exception("the model upstream failed")
            failure = "wave-sandbox gateway: the model upstream failed; see the wave-sandbox log"
            return payload, error_response(500, "api_error", failure)

    def _model_refusal(self, step_id: str, payload: Any) -> str | None:
        pinned = self._pinned_models.get(step_id)
        asked = payload.get("model") if isinstance(payload, dict) else None
        if pinned is None or asked is None or asked == pinned:
            return None
        return f"step {step_id} may only use the model {pinned}, not {asked}"

    def _record(
        self, step_id: str, path: str, request: Any, status: int, response: Any, tokens: Usage, started: float
    ) -> None:
        duration_ms = int((time.monotonic() - started) * 1000)
        token_counts = {"input_tokens": tokens.input_tokens, "output_tokens": tokens.output_tokens}
        record = exchange_record(step_id, path, request, status, response, token_counts, duration_ms)
        try:
            self._transcripts.append(self._transcript_paths[step_id], record)
        except GatewayError as exc:
            logger.error("%s", exc)
