"""Order history of one customer, for the "My orders" tab of the mobile app."""

from __future__ import annotations

from orders.db import ConnectionPool

ORDER_HISTORY_SQL = """
    SELECT id, customer_id, status, total_cents, currency, created_at
    FROM orders
    WHERE customer_id = ?
    ORDER BY created_at DESC
"""


def fetch_order_history(pool: ConnectionPool, customer_id: int) -> list[dict]:
    """Return the customer's orders, newest first."""
    with pool.connection() as connection:
        rows = connection.execute(ORDER_HISTORY_SQL, (customer_id,)).fetchall()
    return [dict(row) for row in rows]
