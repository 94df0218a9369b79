"""The HTTP side of the gateway: a threading server and the handler that speaks HTTP/1.1 to the SDK.

Everything about steps (tokens, budgets, upstreams, transcripts) lives in ``server.Gateway``; this
module only reads requests and writes responses, including chunked SSE passed on as it arrives.
Each connection gets its own thread, so one step waiting on its model never holds up another.
"""

from __future__ import annotations

import http.client
import logging
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from wave_sandbox.gateway.upstream import UpstreamResponse, error_response

if TYPE_CHECKING:
    from wave_sandbox.gateway.server import Gateway

__all__ = ["GatewayHTTPServer", "GatewayRequestHandler"]

logger = logging.getLogger("wave_sandbox.gateway")

# An idle keep-alive connection is dropped after this long, so a stuck client cannot pin a thread forever.
IDLE_CONNECTION_TIMEOUT_S = 300
CLIENT_GONE_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


class GatewayHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its gateway and can close every open connection."""

    daemon_threads = True
    # Parallel steps open connections in bursts; the default backlog of 5 would drop some SYNs (a 1 s stall).
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], gateway: Gateway, family: socket.AddressFamily) -> None:
        self.address_family = family
        self.gateway = gateway
        self._connections_lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}
        super().__init__(address, GatewayRequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup of the host (getfqdn), which can stall.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections[request] = threading.current_thread()
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.pop(request, None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("gateway connection from %s failed", client_address, exc_info=True)

    def close_connections(self, join_timeout_s: float) -> None:
        """Shut every open connection down and wait (``join_timeout_s`` in all) for their threads to end."""
        with self._connections_lock:
            open_connections = list(self._connections.items())
        for connection, _thread in open_connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by its client
        deadline = time.monotonic() + join_timeout_s
        for _connection, thread in open_connections:
            # A thread still waiting on the real API cannot be interrupted; it is a daemon and ends with it.
            thread.join(max(0.0, deadline - time.monotonic()))


class GatewayRequestHandler(BaseHTTPRequestHandler):
    """Reads one request at a time off a keep-alive connection and hands it to the gateway."""

    protocol_version = "HTTP/1.1"
    server_version = "wave-sandbox-gateway"
    sys_version = ""
    timeout = IDLE_CONNECTION_TIMEOUT_S
    server: GatewayHTTPServer

    def do_POST(self) -> None:
        try:
            self.server.gateway.handle_post(self)
        except CLIENT_GONE_ERRORS:
            self.close_connection = True

    def _refuse_method(self) -> None:
        message = f"wave-sandbox gateway: no {self.command} {self.path}; it serves POST /v1/messages"
        self.send_whole(error_response(404, "not_found_error", message), close=True)

    do_GET = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse_method

    def log_message(self, format: str, *args: Any) -> None:
        # The request line holds no secret (the token travels in a header, never logged).
        logger.debug("gateway %s: " + format, self.client_address[0], *args)

    def presented_token(self) -> str | None:
        """The step token the client sent, as the SDK sends it (x-api-key, or a bearer token)."""
        api_key = self.headers.get("x-api-key")
        if api_key:
            return api_key.strip()
        scheme, _, token = (self.headers.get("authorization") or "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    def forwardable_headers(self) -> dict[str, str]:
        """Request headers an upstream may see: lower-cased, without any credential."""
        hidden = {"x-api-key", "authorization", "proxy-authorization", "cookie"}
        return {name.lower(): value for name, value in self.headers.items() if name.lower() not in hidden}

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
        return self.rfile.read(length)

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
