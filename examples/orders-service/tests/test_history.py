"""GET /api/orders?customer_id=N: one customer's order history."""

from __future__ import annotations

import tempfile
import unittest

from support import call, make_test_app


class OrderHistoryTest(unittest.TestCase):
    def setUp(self) -> None:
        self.directory = tempfile.TemporaryDirectory()
        self.app = make_test_app(self.directory.name)

    def tearDown(self) -> None:
        self.app.pool.close()
        self.directory.cleanup()

    def test_history_lists_only_that_customer_newest_first(self) -> None:
        for customer_id, total in ((42, 100), (7, 999), (42, 200), (42, 300)):
            call(self.app, "POST", "/api/orders", {"customer_id": customer_id, "total_cents": total})
        status, body = call(self.app, "GET", "/api/orders?customer_id=42")
        self.assertEqual(status, 200)
        self.assertEqual([order["total_cents"] for order in body["orders"]], [300, 200, 100])

    def test_customer_without_orders_gets_an_empty_list(self) -> None:
        self.assertEqual(call(self.app, "GET", "/api/orders?customer_id=5"), (200, {"customer_id": 5, "orders": []}))

    def test_non_numeric_customer_id_is_400(self) -> None:
        self.assertEqual(call(self.app, "GET", "/api/orders?customer_id=abc")[0], 400)


if __name__ == "__main__":
    unittest.main()
