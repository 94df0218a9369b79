"""The gateway: one small HTTP server per run between the steps' containers and the model.

For every request it takes the step from the token (x-api-key), caps the body, admits the request
(``admission``: counted, an allowlist of fields and headers, the step's model and max_tokens, tokens
reserved against the step's and the run's budgets), forwards a request rebuilt from the allowed
fields to the upstream, relays the answer (streams as they arrive), settles the tokens it used, and
appends the exchange to the step's transcript (byte-capped per step and per run; a refused request
only as a digest and its first KiB). Connections are read by ``connections.ConnectionServer`` (one
I/O thread, a bounded pool of workers, caps and timeouts). It listens on one Unix socket, which the
backend shows to the run's steps and to nothing else (Docker: a bind-mounted folder, steps with no
network at all), or on one TCP address, never a wildcard one (the fake backend's loopback).

    gateway = Gateway(upstream, unix_socket="/tmp/wave-sandbox-gateway-…/socket/gateway.sock", socket_owner=(10001, 10001))
    gateway.start()
    token = gateway.register_step("triage", run_dir / "steps/triage/transcript.jsonl", Budget(max_requests=50),
                                  model="claude-sonnet-4-5", max_tokens=8192)
    ...  # the container uses gateway.base_url (and the socket) and token
    gateway.revoke_step("triage"); gateway.usage("triage"); gateway.step_failure("triage")
    gateway.stop()
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from wave_sandbox.errors import GatewayError
from wave_sandbox.gateway.admission import Admitted, IncomingRequest, StepRules, admit_request
from wave_sandbox.gateway.budgets import Budget, BudgetLedger, Reservation
from wave_sandbox.gateway.connections import ConnectionLimits, ConnectionServer
from wave_sandbox.gateway.http_handler import GatewayRequestHandler, serve_buffered_request
from wave_sandbox.gateway.prices import PriceTable
from wave_sandbox.gateway.response_recorder import ResponseRecorder
from wave_sandbox.gateway.tokens import StepTokens
from wave_sandbox.gateway.transcripts import (
    DEFAULT_RUN_TRANSCRIPT_BYTES,
    DEFAULT_STEP_TRANSCRIPT_BYTES,
    TranscriptCapReached,
    TranscriptWriter,
    exchange_record,
)
from wave_sandbox.gateway.upstream import (
    COUNT_TOKENS_PATH,
    MESSAGES_PATH,
    Upstream,
    UpstreamRequest,
    UpstreamResponse,
    error_response,
)
from wave_sandbox.gateway.usage import Usage

__all__ = ["Gateway", "DEFAULT_MAX_REQUEST_BYTES", "SOCKET_BASE_URL"]

logger = logging.getLogger("wave_sandbox.gateway")

DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024
_ENDPOINTS = (MESSAGES_PATH, COUNT_TOKENS_PATH)
_STOP_JOIN_TIMEOUT_S = 2.0
SOCKET_BASE_URL = "http://wave-sandbox-gateway"


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


def _restrict_socket(path: str, owner: tuple[int, int] | None) -> None:
    """Only ``owner`` (the steps' user; this process's own when None) may connect: mode 0600."""
    if owner is not None and owner != (os.getuid(), os.getgid()):
        os.chown(path, *owner)
    os.chmod(path, 0o600)


class Gateway:
    """Host-side Messages API gateway of one run; see the module docstring."""

    def __init__(
        self,
        upstream: Upstream,
        bind_host: str | None = None,
        port: int = 0,
        run_budget: Budget = Budget(),
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        max_step_transcript_bytes: int = DEFAULT_STEP_TRANSCRIPT_BYTES,
        max_run_transcript_bytes: int = DEFAULT_RUN_TRANSCRIPT_BYTES,
        limits: ConnectionLimits = ConnectionLimits(),
        prices: PriceTable | None = None,
        unix_socket: str | Path | None = None,
        socket_owner: tuple[int, int] | None = None,
    ) -> None:
        """Listens on ``unix_socket`` (made ``socket_owner``'s, mode 0600: the steps' user alone may connect)
        or on ``bind_host:port``; exactly one of the two."""
        if (bind_host is None) == (unix_socket is None):
            raise GatewayError("the gateway needs one place to listen: a Unix socket or a TCP address")
        self.upstream = upstream
        self.prices = prices or PriceTable()
        self._address = None if bind_host is None else _checked_bind_host(bind_host)
        self._unix_socket = None if unix_socket is None else str(unix_socket)
        self._socket_owner = socket_owner
        self._port = port
        self._max_request_bytes = max_request_bytes
        self._limits = limits
        self._tokens = StepTokens()
        self._ledger = BudgetLedger(run_budget)
        self._transcripts = TranscriptWriter(self.known_secrets, max_step_transcript_bytes, max_run_transcript_bytes)
        self._transcript_paths: dict[str, Path] = {}
        self._rules: dict[str, StepRules] = {}
        self._stopping = threading.Event()
        self._server: ConnectionServer | None = None

    # Lifecycle

    def start(self) -> None:
        """Listen on the bind address and serve from a background I/O thread and its workers."""
        if self._server is not None:
            raise GatewayError("the gateway is already started")
        self._stopping.clear()
        if self._unix_socket is not None:
            address, family = self._unix_socket, socket.AF_UNIX
            where, hint = f"the socket {self._unix_socket}", "Check that its folder exists and is writable here."
        else:
            address = (str(self._address), self._port)
            family = socket.AF_INET6 if self._address.version == 6 else socket.AF_INET
            where = f"{self._address} port {self._port}"
            hint = "Check that the address belongs to this host and the port is free."
        try:
            self._server = ConnectionServer(
                address, family, self._limits, self._max_request_bytes,
                identify=self._tokens.step_for, serve=lambda request: serve_buffered_request(self, request),
            )  # fmt: skip
            if self._unix_socket is not None:
                _restrict_socket(self._unix_socket, self._socket_owner)
        except OSError as exc:
            if self._server is not None:  # bound, then not restricted: the socket is ours and goes
                self._server.discard()
                self._server = None
                self._remove_socket()
            raise GatewayError(f"the gateway cannot listen on {where}: {exc.strerror or exc}. {hint}") from exc
        self._server.start()

    def stop(self) -> None:
        """Stop serving: end waits, close the socket and open connections, join the threads (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.stop(_STOP_JOIN_TIMEOUT_S)
        self._remove_socket()

    def _remove_socket(self) -> None:
        if self._unix_socket is not None:
            try:
                os.unlink(self._unix_socket)
            except FileNotFoundError:
                pass

    def __enter__(self) -> Gateway:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT``, the ANTHROPIC_BASE_URL a step's container gets (on a Unix socket, a fixed
        ``http://wave-sandbox-gateway``: the host name is never looked up, the socket carries the request)."""
        if self._server is None:
            raise GatewayError("the gateway has no address until it is started")
        if self._unix_socket is not None:
            return SOCKET_BASE_URL
        host = f"[{self._address}]" if self._address.version == 6 else str(self._address)
        return f"http://{host}:{self._server.server_port}"

    @property
    def unix_socket(self) -> str | None:
        """The host path of the socket listened on (None on TCP)."""
        return self._unix_socket

    @property
    def port(self) -> int | None:
        """The TCP port listened on once started (None on a Unix socket)."""
        return None if self._server is None else self._server.server_port

    @property
    def connection_server(self) -> ConnectionServer | None:
        """The connection server while started (its counts are for tests and diagnostics)."""
        return self._server

    # Steps

    def register_step(
        self,
        step_id: str,
        transcript_path: Path,
        budget: Budget = Budget(),
        model: str | None = None,
        max_tokens: int | None = None,
        tools: Iterable[str] | None = None,
    ) -> str:
        """A token for ``step_id`` (any earlier one stops working); usage of earlier attempts is kept.

        With ``model``, the step may ask for that model only: a container must not pick a dearer one.
        With ``max_tokens`` (the persona's), no request of the step may ask for more. With ``tools``,
        the step may give the model those client tools only.
        """
        self._transcript_paths[step_id] = transcript_path
        self._rules[step_id] = StepRules(
            model, max_tokens, None if tools is None else tuple(tools), self.prices.price(model)
        )
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

    def held_tokens(self, step_id: str) -> int:
        """Tokens reserved by the step's requests in flight."""
        return self._ledger.held_tokens(step_id)

    def step_failure(self, step_id: str) -> str | None:
        """Why the gateway stopped the step (a budget it went over, a transcript cap), or None."""
        return self._ledger.failure(step_id)

    def known_secrets(self) -> tuple[str, ...]:
        """Values that must never be written anywhere: the upstream's key and every step token."""
        return tuple(self.upstream.secrets) + self._tokens.ever_issued()

    # Serving (called from worker threads)

    def handle_post(self, handler: GatewayRequestHandler) -> None:
        """Serve one POST: route, authenticate, admit, then run the exchange."""
        path, _, query = handler.path.partition("?")
        if path not in _ENDPOINTS:
            message = f"wave-sandbox gateway: no endpoint POST {path}; it serves {', '.join(_ENDPOINTS)}"
            return handler.send_whole(error_response(404, "not_found_error", message), close=True)
        step_id = self._tokens.step_for(handler.presented_token())
        if step_id is None or step_id != handler.step_id:
            logger.warning("gateway refused a request from %s without a valid step token", handler.client_address[0])
            message = (
                "wave-sandbox gateway: missing or invalid step token in x-api-key; "
                "use the ANTHROPIC_API_KEY given to this step"
            )
            return handler.send_whole(error_response(401, "authentication_error", message), close=True)
        started = time.monotonic()
        # Over the step's share of requests in flight, the connection server read no body: it is answered 429.
        body = b"" if handler.over_step_limit else handler.read_body(self._max_request_bytes)
        incoming = IncomingRequest(
            step_id, path, query, list(handler.headers.items()), body, _declared_bytes(handler), handler.over_step_limit
        )
        decision = admit_request(self._ledger, self._rules[step_id], incoming)
        if not isinstance(decision, Admitted):
            logger.warning("gateway refused a request of step %s: %s", step_id, decision.response.status)
            answer = json.loads(decision.response.body)
            self._record(step_id, path, decision.request_note, decision.response.status, answer, Usage(), started)
            return handler.send_whole(decision.response, close=decision.close)
        self._exchange(handler, step_id, path, decision, started)

    def _exchange(
        self, handler: GatewayRequestHandler, step_id: str, path: str, admitted: Admitted, started: float
    ) -> None:
        response = self._send_upstream(step_id, path, admitted)
        reservation: Reservation = admitted.reservation

        def report(transcript_response: Any, tokens: Usage) -> None:
            tokens = replace(tokens, cost_usd=self.prices.cost(admitted.payload.get("model"), tokens))
            self._ledger.settle(reservation, tokens)
            self._record(step_id, path, admitted.payload, response.status, transcript_response, tokens, started)

        recorder = ResponseRecorder(response, report)
        try:
            handler.send_relayed(response, recorder.observe, before_end=recorder.finish)
        finally:
            response.close()
            recorder.finish()  # a response cut short (client gone, upstream broke) is still counted

    def ask_for_host(self, account_id: str, payload: dict[str, Any]) -> tuple[int, Any]:
        """One non-streaming Messages request the host makes itself (an llm_judge contract), under
        ``account_id`` (registered like a step: its budget, rules and transcript), admitted, counted in
        the run's budget and recorded exactly as a container's request is. Returns status and answer."""
        from wave_sandbox.gateway.host_requests import ask_once

        return ask_once(self, account_id, payload)

    def _send_upstream(self, step_id: str, path: str, admitted: Admitted) -> UpstreamResponse:
        request = UpstreamRequest(step_id, path, "", admitted.headers, admitted.body, admitted.payload, self._stopping)
        try:
            return self.upstream.send(request)
        except Exception:  # a bug in an upstream must answer the step, not kill the worker
            logger.exception("the model upstream failed")
            failure = "wave-sandbox gateway: the model upstream failed; see the wave-sandbox log"
            return error_response(500, "api_error", failure)

    def _record(
        self, step_id: str, path: str, request: Any, status: int, response: Any, tokens: Usage, started: float
    ) -> None:
        duration_ms = int((time.monotonic() - started) * 1000)
        token_counts = dict(tokens.token_counts(), cost_usd=round(tokens.cost_usd, 8))
        record = exchange_record(step_id, path, request, status, response, token_counts, duration_ms)
        try:
            self._transcripts.append(self._transcript_paths[step_id], record)
        except TranscriptCapReached as cap:
            self._stop_for_transcript_cap(step_id, cap)
        except GatewayError as exc:
            logger.error("%s", exc)

    def _stop_for_transcript_cap(self, step_id: str, cap: TranscriptCapReached) -> None:
        if cap.whole_run:
            self._ledger.stop_run(str(cap))
            self._ledger.fail_step(step_id, f"step {step_id} was stopped: {cap}")
        else:
            self._ledger.fail_step(step_id, f"step {step_id}: {cap}")
        logger.warning("%s", self._ledger.failure(step_id))


def _declared_bytes(handler: GatewayRequestHandler) -> int:
    try:
        return max(0, int(handler.headers.get("content-length") or "0"))
    except ValueError:
        return 0
