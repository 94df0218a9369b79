"""Helpers for the tests: an app on a throwaway database, and a WSGI call."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from orders.app import OrdersApp, create_app
from orders.config import Settings

# The tests provoke errors on purpose; keep the app's log lines out of the test output.
logging.getLogger("orders").addHandler(logging.NullHandler())


def make_test_app(directory: str, pool_size: int = 2, acquire_timeout_s: float = 1.0) -> OrdersApp:
    """An app on a fresh SQLite file inside `directory`, schema migrated."""
    settings = Settings(
        database_path=str(Path(directory) / "orders.sqlite3"),
        pool_size=pool_size,
        pool_acquire_timeout_s=acquire_timeout_s,
        log_level="WARNING",
    )
    return create_app(settings)


def call(app: OrdersApp, method: str, target: str, body: object = None) -> tuple[int, dict]:
    """Send one request through the WSGI interface; return (status code, decoded JSON)."""
    path, _, query = target.partition("?")
    raw = b"" if body is None else json.dumps(body).encode()
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
               "CONTENT_LENGTH": str(len(raw)), "wsgi.input": io.BytesIO(raw)}
    captured = {}
    chunks = app(environ, lambda status, headers: captured.setdefault("status", status))
    return int(captured["status"].split()[0]), json.loads(b"".join(chunks))
