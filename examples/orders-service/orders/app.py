"""The WSGI application: routing, JSON in and out, a 500 for anything unexpected."""

from __future__ import annotations

import json
import logging
import re
from typing import Callable, Iterable

from orders.config import Settings, load_settings
from orders.db import ConnectionPool, apply_migrations
from orders.handlers import OrderHandlers
from orders.request import BadRequest, Request

logger = logging.getLogger(__name__)

ORDER_PATH = re.compile(r"/api/orders/(\d+)")
REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
           500: "Internal Server Error"}


class OrdersApp:
    """Routes /healthz and /api/orders; turns exceptions into JSON errors."""

    def __init__(self, settings: Settings) -> None:
        self.pool = ConnectionPool(
            settings.database_path,
            size=settings.pool_size,
            acquire_timeout_s=settings.pool_acquire_timeout_s,
        )
        self.handlers = OrderHandlers(self.pool)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        status, body = self.respond(environ)
        payload = json.dumps(body).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
        start_response(f"{status} {REASONS.get(status, '')}".strip(), headers)
        return [payload]

    def respond(self, environ: dict) -> tuple[int, dict]:
        """Answer one request; never raises."""
        try:
            request = Request.from_environ(environ)
        except BadRequest as exc:
            return 400, {"error": str(exc)}
        try:
            return self.route(request)
        except BadRequest as exc:
            logger.warning("bad request on %s %s (request %s): %s", request.method, request.target,
                           request.request_id, exc)
            return 400, {"error": str(exc), "request_id": request.request_id}
        except Exception:
            logger.exception("unhandled error on %s %s (request %s)", request.method, request.target,
                             request.request_id)
            return 500, {"error": "internal server error", "request_id": request.request_id}

    def route(self, request: Request) -> tuple[int, dict]:
        """Pick the handler for the method and path."""
        if request.path == "/healthz":
            return 200, {"status": "ok"}
        if request.path == "/api/orders" and request.method == "GET":
            return self.handlers.list_orders(request)
        if request.path == "/api/orders" and request.method == "POST":
            return self.handlers.create_order(request)
        match = ORDER_PATH.fullmatch(request.path)
        if match and request.method == "GET":
            return self.handlers.get_order(request, int(match.group(1)))
        if match or request.path == "/api/orders":
            return 405, {"error": f"{request.method} not allowed on {request.path}"}
        return 404, {"error": f"no route for {request.path}"}


def create_app(settings: Settings | None = None) -> OrdersApp:
    """Build the app and bring the database schema up to date (gunicorn: orders.app:create_app())."""
    app = OrdersApp(settings or load_settings())
    applied = apply_migrations(app.pool)
    logger.info("orders-service ready: pool size %d, migrations applied: %s", app.pool.size,
                ", ".join(applied) or "none pending")
    return app
