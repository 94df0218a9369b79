"""The gateway's connections: one I/O thread reads requests in, a small pool of workers serves them.

A thread per connection let 4,000 idle half-sent requests (no token needed) make 4,000 host threads
and starve the run's own requests. Here a connection costs a descriptor and its buffered bytes until
its whole request is in; only then does a worker take it, and a keep-alive connection goes back to
the I/O thread between requests. The limits (``ConnectionLimits``):

- at most ``max_connections`` open; when full, the connection that has waited longest without
  sending a whole head (idle or half-sent) is dropped for the new one, so a flood cannot lock out
  a step whose head arrives at once;
- a head must arrive within ``head_timeout_s`` of its first byte (or of the connection), a body within
  ``body_timeout_s`` of its head, an idle keep-alive connection is dropped after ``idle_timeout_s``;
- a body is read only for a valid step token (``identify``) and a length within the gateway's cap;
- at most ``max_step_requests`` requests of one step are read or served at once; more are answered
  429 (by the gateway) without reading their body, so one step cannot take every worker;
- ``workers`` threads at most serve requests (started as needed), each writing with a timeout.
"""

from __future__ import annotations

import http.client
import io
import logging
import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wave_sandbox.gateway.tokens import presented_token
from wave_sandbox.gateway.worker_pool import WorkerPool

__all__ = ["ConnectionLimits", "BufferedRequest", "ConnectionServer"]

logger = logging.getLogger("wave_sandbox.gateway")

_READ_BYTES = 65536
_SELECT_TIMEOUT_S = 0.25
_LISTENER, _WAKER = object(), object()


@dataclass(frozen=True)
class ConnectionLimits:
    """How many connections, requests and threads the gateway allows, and how long it waits for bytes."""

    max_connections: int = 256
    max_step_requests: int = 8
    workers: int = 32
    head_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    idle_timeout_s: float = 300.0
    write_timeout_s: float = 60.0
    max_head_bytes: int = 65536
    backlog: int = 128


@dataclass(eq=False)
class BufferedRequest:
    """One connection and the request read off it (head and, when admitted, body) for a worker."""

    sock: socket.socket
    address: Any
    buffer: bytearray = field(default_factory=bytearray)
    state: str = "head"  # "idle" (keep-alive), "head", "body" (a step's body arriving) or "busy" (with a worker)
    deadline: float = 0.0
    needed: int = 0
    request_bytes: bytes = b""
    step_id: str | None = None  # the step whose request this is, from its token (None: not a valid token)
    over_step_limit: bool = False  # the step had max_step_requests in flight: answer 429, body unread
    holds_step_slot: bool = False  # counted in its step's requests in flight


def _head_end(buffer: bytearray) -> int | None:
    """Where the request head in ``buffer`` ends (after its blank line), or None when it has not yet."""
    ends = [index + len(mark) for mark in (b"\r\n\r\n", b"\n\n") if (index := buffer.find(mark)) >= 0]
    return min(ends) if ends else None


def _parse_head(head: bytes) -> tuple[int | None, str | None, bool]:
    """The body length (None: none usable), the presented token and whether 100-continue is expected."""
    _, _, header_lines = head.partition(b"\n")
    try:
        headers = http.client.parse_headers(io.BytesIO(header_lines))
    except http.client.HTTPException:
        return None, None, False
    try:
        length = None if headers.get("transfer-encoding") else int(headers.get("content-length") or "0")
    except ValueError:
        length = None
    expects = (headers.get("expect") or "").lower() == "100-continue"
    return length, presented_token(headers), expects


def _listen(address: tuple[str, int] | str, family: socket.AddressFamily, backlog: int) -> socket.socket:
    """A listening socket: TCP on ``(host, port)``, or a Unix socket at the path ``address``."""
    if family != socket.AF_UNIX:
        return socket.create_server(address, family=family, backlog=backlog)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(address)
        listener.listen(backlog)
    except OSError:
        listener.close()
        raise
    return listener


class ConnectionServer:
    """Accepts connections on one address and hands whole requests to ``serve`` in a worker.

    ``identify`` names the step of a presented token (None for no valid one); ``serve`` answers one
    buffered request and says whether the connection may stay open for the next.
    """

    def __init__(
        self,
        address: tuple[str, int] | str,
        family: socket.AddressFamily,
        limits: ConnectionLimits,
        max_body_bytes: int,
        identify: Callable[[str | None], str | None],
        serve: Callable[[BufferedRequest], bool],
    ) -> None:
        self.limits, self._max_body_bytes = limits, max_body_bytes
        self._identify, self._serve = identify, serve
        self._listener = _listen(address, family, limits.backlog)
        self._listener.setblocking(False)
        self.server_port = None if family == socket.AF_UNIX else int(self._listener.getsockname()[1])
        """The TCP port listened on; None on a Unix socket."""
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, _LISTENER)
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)
        self._selector.register(self._wake_reader, selectors.EVENT_READ, _WAKER)
        self._connections: set[BufferedRequest] = set()
        self._waiting: dict[BufferedRequest, None] = {}  # idle or half-sent, oldest first: evicted first
        self._in_flight: dict[str, int] = {}
        self._finished: queue.SimpleQueue[tuple[BufferedRequest, bool]] = queue.SimpleQueue()
        self._workers = WorkerPool(limits.workers, "wave-sandbox-gateway-worker")
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="wave-sandbox-gateway", daemon=True)

    # Lifecycle (called from the gateway's thread)

    def start(self) -> None:
        self._thread.start()

    def stop(self, join_timeout_s: float) -> None:
        """Close the listener and every connection, end the workers, wait ``join_timeout_s`` for them."""
        self._stopping.set()
        self._wake()
        self._thread.join(join_timeout_s)
        self._workers.stop(join_timeout_s)
        self._wake_writer.close()
        while True:  # connections whose worker ended after the loop did
            try:
                self._finished.get_nowait()[0].sock.close()
            except queue.Empty:
                return

    def discard(self) -> None:
        """Close what a server never started holds (its listener, selector and wake-up pair)."""
        self._listener.close()
        self._selector.close()
        self._wake_reader.close()
        self._wake_writer.close()
        self._workers.stop(0)

    def connection_count(self) -> int:
        """Connections open now (for tests and diagnostics)."""
        return len(self._connections)

    @property
    def worker_threads(self) -> int:
        return self._workers.thread_count

    # The I/O thread

    def _loop(self) -> None:
        next_sweep = 0.0
        try:
            while not self._stopping.is_set():
                for key, _ in self._selector.select(_SELECT_TIMEOUT_S):
                    self._on_readable_guarded(key.data)
                self._take_back_finished()
                if time.monotonic() >= next_sweep:
                    self._drop_expired()
                    next_sweep = time.monotonic() + _SELECT_TIMEOUT_S
        finally:
            self._close_everything()

    def _on_readable_guarded(self, data: Any) -> None:
        try:
            self._on_readable(data)
        except Exception:  # a bug with one connection must not stop the gateway for every step
            logger.exception("the gateway failed on a connection")
            if isinstance(data, BufferedRequest) and data.state != "busy":
                self._close(data)

    def _on_readable(self, data: Any) -> None:
        if data is _LISTENER:
            self._accept_pending()
        elif data is _WAKER:
            try:
                self._wake_reader.recv(4096)
            except BlockingIOError:
                pass
        else:
            self._read(data)

    def _accept_pending(self) -> None:
        for _ in range(64):  # a burst of connections must not keep the loop from the others
            try:
                sock, address = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of descriptors: drop the oldest waiting connection and retry later
                logger.warning("the gateway could not accept a connection: %s", exc)
                self._evict_oldest_waiting()
                return
            self._admit_connection(sock, address)

    def _admit_connection(self, sock: socket.socket, address: Any) -> None:
        if len(self._connections) >= self.limits.max_connections and not self._evict_oldest_waiting():
            sock.close()  # every connection is a request being read or served: this one must wait its turn
            return
        sock.setblocking(False)
        if sock.family != socket.AF_UNIX:
            # A response's head and body are written apart: on a kept-alive connection the body would
            # otherwise wait for the client's delayed ACK of the head (~40 ms a request).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if not isinstance(address, tuple):  # a Unix socket's peer has no address: name its kind for the logs
            address = ("unix-socket", 0)
        connection = BufferedRequest(sock, address, deadline=time.monotonic() + self.limits.head_timeout_s)
        self._connections.add(connection)
        self._waiting[connection] = None
        self._selector.register(sock, selectors.EVENT_READ, connection)

    def _evict_oldest_waiting(self) -> bool:
        oldest = next(iter(self._waiting), None)
        if oldest is None:
            return False
        self._close(oldest)
        return True

    def _read(self, connection: BufferedRequest) -> None:
        try:
            data = connection.sock.recv(_READ_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            return self._close(connection)
        connection.buffer += data
        self._advance(connection)

    def _advance(self, connection: BufferedRequest) -> None:
        if connection.state == "idle":
            connection.state, connection.deadline = "head", time.monotonic() + self.limits.head_timeout_s
        if connection.state == "head":
            head_end = _head_end(connection.buffer)
            if head_end is None:
                if len(connection.buffer) > self.limits.max_head_bytes:
                    self._close(connection)
                return
            self._start_request(connection, head_end)
        if connection.state == "body" and len(connection.buffer) >= connection.needed:
            self._hand_to_worker(connection)

    def _start_request(self, connection: BufferedRequest, head_end: int) -> None:
        """Decide from the head how much body to read: none unless a step's token and a length within the cap."""
        length, token, expects_continue = _parse_head(bytes(connection.buffer[:head_end]))
        self._waiting.pop(connection, None)
        connection.step_id = self._identify(token)
        connection.needed = head_end
        connection.state, connection.deadline = "body", time.monotonic() + self.limits.body_timeout_s
        if connection.step_id is None or length is None or not 0 <= length <= self._max_body_bytes:
            return
        if self._in_flight.get(connection.step_id, 0) >= self.limits.max_step_requests:
            connection.over_step_limit = True
            return
        self._in_flight[connection.step_id] = self._in_flight.get(connection.step_id, 0) + 1
        connection.holds_step_slot = True
        connection.needed = head_end + length
        if expects_continue and len(connection.buffer) < connection.needed:
            self._send_quietly(connection, b"HTTP/1.1 100 Continue\r\n\r\n")

    def _hand_to_worker(self, connection: BufferedRequest) -> None:
        self._selector.unregister(connection.sock)
        connection.state = "busy"
        connection.request_bytes = bytes(connection.buffer[: connection.needed])
        del connection.buffer[: connection.needed]
        self._workers.submit(lambda: self._serve_in_worker(connection))

    def _serve_in_worker(self, connection: BufferedRequest) -> None:
        keep_open = False
        try:
            connection.sock.settimeout(self.limits.write_timeout_s)
            keep_open = self._serve(connection)
        except Exception:  # a broken connection or a bug must not end the worker
            logger.debug("gateway request from %s failed", connection.address, exc_info=True)
        finally:
            self._finished.put((connection, keep_open))
            self._wake()

    def _take_back_finished(self) -> None:
        while True:
            try:
                connection, keep_open = self._finished.get_nowait()
            except queue.Empty:
                return
            self._release_step_slot(connection)
            if not keep_open or self._stopping.is_set():
                self._close(connection)
                continue
            self._await_next_request(connection)

    def _await_next_request(self, connection: BufferedRequest) -> None:
        try:
            connection.sock.setblocking(False)
            self._selector.register(connection.sock, selectors.EVENT_READ, connection)
        except (OSError, ValueError):  # the client closed it meanwhile
            return self._close(connection, registered=False)
        connection.state, connection.deadline = "idle", time.monotonic() + self.limits.idle_timeout_s
        connection.request_bytes, connection.over_step_limit = b"", False
        self._waiting[connection] = None
        if connection.buffer:  # the client sent its next request already
            self._advance(connection)

    def _release_step_slot(self, connection: BufferedRequest) -> None:
        if connection.holds_step_slot and connection.step_id is not None:
            self._in_flight[connection.step_id] -= 1
        connection.step_id, connection.holds_step_slot, connection.needed = None, False, 0

    def _drop_expired(self) -> None:
        now = time.monotonic()
        for connection in [c for c in self._connections if c.state != "busy" and c.deadline < now]:
            self._close(connection)

    def _close(self, connection: BufferedRequest, registered: bool = True) -> None:
        self._connections.discard(connection)
        self._waiting.pop(connection, None)
        self._release_step_slot(connection)
        if registered and connection.state != "busy":
            try:
                self._selector.unregister(connection.sock)
            except (KeyError, ValueError):
                pass
        connection.sock.close()

    def _close_everything(self) -> None:
        self._listener.close()
        for connection in list(self._connections):
            if connection.state == "busy":  # its worker is writing: make the write fail now
                try:
                    connection.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            else:
                self._close(connection)
        self._selector.close()
        self._wake_reader.close()

    def _send_quietly(self, connection: BufferedRequest, data: bytes) -> None:
        try:
            connection.sock.send(data)
        except OSError:
            pass

    def _wake(self) -> None:
        try:
            self._wake_writer.send(b"\0")
        except OSError:
            pass  # the loop is already awake with a full pipe, or gone
