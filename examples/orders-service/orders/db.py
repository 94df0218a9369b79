"""SQLite access: a fixed-size connection pool and the schema migrations."""

from __future__ import annotations

import logging
import queue
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# A checkout held longer than this starves the other request threads, so it is logged.
SLOW_CHECKOUT_WARNING_S = 1.0


class PoolTimeout(Exception):
    """No connection became free within the pool's acquire timeout."""


def open_connection(database_path: str) -> sqlite3.Connection:
    """Open one connection; the pool hands it to one request thread at a time."""
    connection = sqlite3.connect(database_path, check_same_thread=False, isolation_level=None)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA busy_timeout=5000")
    return connection


class ConnectionPool:
    """A fixed number of SQLite connections, lent out for the length of a with-block."""

    def __init__(self, database_path: str, size: int, acquire_timeout_s: float) -> None:
        self.size = size
        self.acquire_timeout_s = acquire_timeout_s
        self._idle: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        for _ in range(size):
            self._idle.put(open_connection(database_path))

    @property
    def in_use(self) -> int:
        """How many connections are lent out right now."""
        return self.size - self._idle.qsize()

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """Lend a connection; it goes back to the pool when the block ends."""
        connection = self._acquire()
        checked_out_at = time.monotonic()
        try:
            yield connection
        finally:
            self._release(connection, time.monotonic() - checked_out_at)

    def close(self) -> None:
        """Close every idle connection (at shutdown, when nothing is lent out)."""
        while not self._idle.empty():
            self._idle.get_nowait().close()

    def _acquire(self) -> sqlite3.Connection:
        try:
            return self._idle.get(timeout=self.acquire_timeout_s)
        except queue.Empty:
            raise PoolTimeout(
                f"no database connection free after {self.acquire_timeout_s:.1f}s "
                f"(pool size {self.size}, {self.in_use} in use)"
            ) from None

    def _release(self, connection: sqlite3.Connection, held_s: float) -> None:
        self._idle.put(connection)
        if held_s > SLOW_CHECKOUT_WARNING_S:
            logger.warning(
                "connection held for %.1fs (pool size %d, %d in use)", held_s, self.size, self.in_use
            )


def apply_migrations(pool: ConnectionPool, migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the numbered .sql files not applied yet, in order; return their names."""
    with pool.connection() as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        applied = {row["name"] for row in connection.execute("SELECT name FROM schema_migrations")}
        pending = [path for path in sorted(migrations_dir.glob("*.sql")) if path.name not in applied]
        for path in pending:
            connection.executescript(path.read_text())
            connection.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?, datetime('now'))", (path.name,)
            )
    return [path.name for path in pending]
