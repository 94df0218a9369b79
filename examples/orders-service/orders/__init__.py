"""orders-service: the shop's order API, a small WSGI app on SQLite."""
