"""One log format for the app and gunicorn: UTC timestamps with milliseconds."""

from __future__ import annotations

import logging
import time

LOG_FORMAT = "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"


class UtcFormatter(logging.Formatter):
    """Formats times in UTC, whatever the host's time zone."""

    converter = time.gmtime


def configure_logging(level: str = "INFO") -> None:
    """Send every log line to stderr in LOG_FORMAT."""
    handler = logging.StreamHandler()
    handler.setFormatter(UtcFormatter(LOG_FORMAT, DATE_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
