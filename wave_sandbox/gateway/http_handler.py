"""The HTTP side of the gateway: the handler that speaks HTTP/1.1 to the SDK, one buffered request at a time.

Everything about steps (tokens, budgets, upstreams, transcripts) lives in ``server.Gateway``, and
reading connections in ``connections.ConnectionServer``; this module only parses one request that
was read in whole and writes its response, including chunked SSE passed on as it arrives.
"""

from __future__ import annotations

import http.client
import io
import logging
import socket
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

from wave_sandbox.gateway.connections import BufferedRequest
from wave_sandbox.gateway.tokens import presented_token
from wave_sandbox.gateway.upstream import UpstreamResponse, error_response


class Gateway(Protocol):
    """What the handler asks of ``server.Gateway`` (named here, so this module does not import it)."""

    def handle_post(self, handler: GatewayRequestHandler) -> None: ...

__all__ = ["GatewayRequestHandler", "serve_buffered_request"]

logger = logging.getLogger("wave_sandbox.gateway")

CLIENT_GONE_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


def serve_buffered_request(gateway: Gateway, buffered: BufferedRequest) -> bool:
    """Answer the request in ``buffered``; True when its connection may stay open for the next one."""
    handler = GatewayRequestHandler(buffered, gateway)
    return not handler.close_connection


class _SocketWriter(io.BufferedIOBase):
    """Writes all of every buffer to the socket (a raw socket file may write only part of one)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._sock.sendall(data)
        return len(data)


class GatewayRequestHandler(BaseHTTPRequestHandler):
    """Parses one buffered request and hands it to the gateway; the connection stays with its server."""

    protocol_version = "HTTP/1.1"
    server_version = "wave-sandbox-gateway"
    sys_version = ""

    def __init__(self, buffered: BufferedRequest, gateway: Gateway) -> None:
        self.buffered, self.gateway = buffered, gateway
        super().__init__(buffered.sock, buffered.address, None)  # type: ignore[arg-type]

    def setup(self) -> None:
        self.connection = self.request
        self.rfile = io.BytesIO(self.buffered.request_bytes)
        self.wfile = _SocketWriter(self.connection)

    def handle(self) -> None:
        self.close_connection = True
        self.handle_one_request()

    def finish(self) -> None:
        pass  # the connection server keeps or closes the socket

    def handle_expect_100(self) -> bool:
        return True  # the connection server answered 100-continue before it read the body

    def do_POST(self) -> None:
        try:
            self.gateway.handle_post(self)
        except CLIENT_GONE_ERRORS:
            self.close_connection = True

    def _refuse_method(self) -> None:
        message = f"wave-sandbox gateway: no {self.command} {self.path}; it serves POST /v1/messages"
        self.send_whole(error_response(404, "not_found_error", message), close=True)

    do_GET = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse_method

    def log_message(self, format: str, *args: Any) -> None:
        # The request line holds no secret (the token travels in a header, never logged).
        logger.debug("gateway %s: " + format, self.client_address[0], *args)

    @property
    def step_id(self) -> str | None:
        """The step the connection server read this request for (None: no valid token at that time)."""
        return self.buffered.step_id

    @property
    def over_step_limit(self) -> bool:
        """The step had as many requests in flight as it may: this one's body was not read."""
        return self.buffered.over_step_limit

    def presented_token(self) -> str | None:
        """The step token the client sent, as the SDK sends it (x-api-key, or a bearer token)."""
        return presented_token(self.headers)

    def read_body(self, max_bytes: int) -> bytes | UpstreamResponse:
        """The request body, or the error response to send instead (too large, no length)."""
        if self.headers.get("transfer-encoding"):
            problem = "wave-sandbox gateway needs a Content-Length, not a chunked body"
            return error_response(411, "invalid_request_error", problem)
        try:
            length = int(self.headers.get("content-length") or "0")
        except ValueError:
            return error_response(400, "invalid_request_error", "the Content-Length header is not a number")
        if length < 0 or length > max_bytes:
            problem = f"request of {length} bytes is over the gateway's cap of {max_bytes} bytes"
            return error_response(413, "request_too_large", problem)
        body = self.rfile.read(length)
        if len(body) < length:  # the connection server read no body (the token was not valid then)
            return error_response(400, "invalid_request_error", "wave-sandbox gateway: the request body was not read")
        return body

    def send_whole(self, response: UpstreamResponse, close: bool = False) -> None:
        """Send a complete (non-streamed) response; ``close`` ends the connection after it."""
        self._send_head(response, close)
        self.wfile.write(response.body)

    def send_relayed(
        self, response: UpstreamResponse, observe: Callable[[bytes], None], before_end: Callable[[], None]
    ) -> None:
        """Send ``response``, streamed or whole. Every byte is shown to ``observe`` before it is sent,
        and ``before_end`` runs before the last bytes go out, while the client still waits for them.
        """
        if not response.is_stream:
            observe(response.body)
            before_end()
            return self.send_whole(response)
        self._send_head(response, close=False)
        self._relay_chunks(response.chunks or (), observe, before_end)

    def _send_head(self, response: UpstreamResponse, close: bool) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        if response.is_stream:
            self.send_header("transfer-encoding", "chunked")
        else:
            self.send_header("content-length", str(len(response.body)))
        if close:
            self.send_header("connection", "close")
            self.close_connection = True
        self.end_headers()

    def _relay_chunks(
        self, chunks: Iterable[bytes], observe: Callable[[bytes], None], before_end: Callable[[], None]
    ) -> None:
        iterator = iter(chunks)
        while True:
            try:
                chunk = next(iterator, None)
            except (OSError, http.client.HTTPException) as exc:
                # Ending without the final empty chunk tells the client the stream broke.
                logger.warning("the upstream stream broke off: %s", type(exc).__name__)
                self.close_connection = True
                return
            if chunk is None:
                break
            if not chunk:
                continue  # an empty chunk would read as the end of the stream
            observe(chunk)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        before_end()
        self.wfile.write(b"0\r\n\r\n")
