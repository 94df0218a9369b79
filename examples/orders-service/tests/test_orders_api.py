"""The /api/orders endpoints, end to end through the WSGI app on a temporary database."""

from __future__ import annotations

import tempfile
import unittest

from support import call, make_test_app


class OrdersApiTest(unittest.TestCase):
    def setUp(self) -> None:
        self.directory = tempfile.TemporaryDirectory()
        self.app = make_test_app(self.directory.name)

    def tearDown(self) -> None:
        self.app.pool.close()
        self.directory.cleanup()

    def test_created_order_can_be_fetched(self) -> None:
        status, created = call(self.app, "POST", "/api/orders", {"customer_id": 7, "total_cents": 1250})
        self.assertEqual(status, 201)
        status, fetched = call(self.app, "GET", f"/api/orders/{created['id']}")
        self.assertEqual((status, fetched["total_cents"], fetched["status"]), (200, 1250, "pending"))

    def test_list_returns_newest_orders_first(self) -> None:
        for total in (100, 200, 300):
            call(self.app, "POST", "/api/orders", {"customer_id": 1, "total_cents": total})
        status, body = call(self.app, "GET", "/api/orders")
        self.assertEqual(status, 200)
        self.assertEqual([order["total_cents"] for order in body["orders"]], [300, 200, 100])

    def test_invalid_order_is_rejected_with_400(self) -> None:
        status, body = call(self.app, "POST", "/api/orders", {"customer_id": 7, "total_cents": -5})
        self.assertEqual(status, 400)
        self.assertIn("total_cents", body["error"])

    def test_unknown_order_is_404(self) -> None:
        self.assertEqual(call(self.app, "GET", "/api/orders/999")[0], 404)

    def test_healthz_answers_without_the_database(self) -> None:
        self.assertEqual(call(self.app, "GET", "/healthz"), (200, {"status": "ok"}))


if __name__ == "__main__":
    unittest.main()
