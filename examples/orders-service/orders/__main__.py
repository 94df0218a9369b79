"""Development server: `python -m orders` serves the app on 127.0.0.1:8080 (production runs gunicorn)."""

from __future__ import annotations

import logging
import os
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIServer, make_server

from orders.app import create_app
from orders.config import load_settings
from orders.logging_format import configure_logging


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """One thread per request, like gunicorn's gthread workers."""

    daemon_threads = True


def main() -> None:
    """Serve until interrupted."""
    settings = load_settings()
    configure_logging(settings.log_level)
    port = int(os.environ.get("PORT", "8080"))
    with make_server("127.0.0.1", port, create_app(settings), server_class=ThreadingWSGIServer) as server:
        logging.getLogger("orders").info("serving on http://127.0.0.1:%d", port)
        server.serve_forever()


if __name__ == "__main__":
    main()
