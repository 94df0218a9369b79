"""A bounded pool of daemon worker threads for the gateway's requests.

Threads start only when every running one is busy, up to ``size``; they are daemons, so a worker still
waiting on the real API (up to its timeout) never holds up the end of the process.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

__all__ = ["WorkerPool"]


class WorkerPool:
    """At most ``size`` daemon threads running submitted jobs; threads start only when all are busy."""

    def __init__(self, size: int, name: str) -> None:
        self._size, self._name = size, name
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0  # threads waiting for a job
        self._queued = 0  # jobs not yet taken

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            self._queued += 1
            if self._queued > self._idle and len(self._threads) < self._size:
                thread = threading.Thread(target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True)
                self._threads.append(thread)
                thread.start()
        self._jobs.put(job)

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            job = self._jobs.get()
            with self._lock:
                self._idle -= 1
                self._queued -= job is not None
            if job is None:
                return
            job()

    def stop(self, join_timeout_s: float) -> None:
        """Ask every thread to end after its job and wait ``join_timeout_s`` in all (a daemon may outlive it)."""
        with self._lock:
            threads = list(self._threads)
        for _ in threads:
            self._jobs.put(None)
        deadline = time.monotonic() + join_timeout_s
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    @property
    def thread_count(self) -> int:
        with self._lock:
            return len(self._threads)
