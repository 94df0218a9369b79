"""Service settings, read once from the environment at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    database_path: str
    pool_size: int
    pool_acquire_timeout_s: float
    log_level: str


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from the ORDERS_* variables, with the production defaults."""
    environ = os.environ if environ is None else environ
    return Settings(
        database_path=environ.get("ORDERS_DATABASE_PATH", "/var/lib/orders/orders.sqlite3"),
        pool_size=int(environ.get("ORDERS_POOL_SIZE", "10")),
        pool_acquire_timeout_s=float(environ.get("ORDERS_POOL_ACQUIRE_TIMEOUT_S", "30")),
        log_level=environ.get("ORDERS_LOG_LEVEL", "INFO"),
    )
