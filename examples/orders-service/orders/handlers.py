"""Handlers of /api/orders: list orders, fetch one, create one."""

from __future__ import annotations

from datetime import datetime, timezone

from orders.db import ConnectionPool
from orders.history import fetch_order_history
from orders.request import BadRequest, Request

RECENT_ORDERS_LIMIT = 50
ORDER_COLUMNS = "id, customer_id, status, total_cents, currency, created_at"
SUPPORTED_CURRENCIES = {"EUR", "GBP", "USD"}


class OrderHandlers:
    """The order endpoints; each returns (HTTP status, JSON-ready body)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool

    def list_orders(self, request: Request) -> tuple[int, dict]:
        """GET /api/orders: the latest orders, or one customer's history with ?customer_id=N."""
        customer_id = request.query_int("customer_id")
        if customer_id is not None:
            return 200, {"customer_id": customer_id, "orders": fetch_order_history(self.pool, customer_id)}
        with self.pool.connection() as connection:
            rows = connection.execute(
                f"SELECT {ORDER_COLUMNS} FROM orders ORDER BY id DESC LIMIT ?", (RECENT_ORDERS_LIMIT,)
            ).fetchall()
        return 200, {"orders": [dict(row) for row in rows]}

    def get_order(self, request: Request, order_id: int) -> tuple[int, dict]:
        """GET /api/orders/<id>: one order, or 404."""
        with self.pool.connection() as connection:
            row = connection.execute(f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?", (order_id,)).fetchone()
        if row is None:
            return 404, {"error": f"order {order_id} not found"}
        return 200, dict(row)

    def create_order(self, request: Request) -> tuple[int, dict]:
        """POST /api/orders: create a pending order from {customer_id, total_cents, currency}."""
        order = validate_new_order(request.json())
        order["created_at"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self.pool.connection() as connection:
            cursor = connection.execute(
                "INSERT INTO orders (customer_id, total_cents, currency, created_at) VALUES (?, ?, ?, ?)",
                (order["customer_id"], order["total_cents"], order["currency"], order["created_at"]),
            )
        return 201, {"id": cursor.lastrowid, "status": "pending", **order}


def validate_new_order(payload: object) -> dict:
    """Check a POST body and return the fields to store; BadRequest says what is wrong."""
    if not isinstance(payload, dict):
        raise BadRequest("body must be a JSON object")
    customer_id, total_cents = payload.get("customer_id"), payload.get("total_cents")
    currency = payload.get("currency", "EUR")
    if not isinstance(customer_id, int) or customer_id <= 0:
        raise BadRequest("customer_id must be a positive integer")
    if not isinstance(total_cents, int) or total_cents <= 0:
        raise BadRequest("total_cents must be a positive integer")
    if currency not in SUPPORTED_CURRENCIES:
        raise BadRequest(f"currency must be one of {', '.join(sorted(SUPPORTED_CURRENCIES))}")
    return {"customer_id": customer_id, "total_cents": total_cents, "currency": currency}
