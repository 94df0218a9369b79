"""Ctrl-C and SIGTERM held off for the length of a block: ignored, or deferred and then delivered.

`ignoring_interrupts`: the run's last bookkeeping and teardown, which a second Ctrl-C must not cut
(it would leave objects behind); the signal is dropped, the run is ending anyway.
`signals_deferred`: code that must not be cut in the middle but goes on after it: the registry's removals,
and the run loop's wait on its steps' futures, which takes and releases the futures' locks one by one
(a KeyboardInterrupt raised between two of them leaves a lock held, and the worker thread that finishes
the step then blocks on it forever, so the run could never end).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends, then deliver the first (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda number, _frame: received.append(number))
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for number in received[:1]:
            signal.raise_signal(number)


class ignoring_interrupts:
    """Hold off SIGINT/SIGTERM while cleaning up, so a second Ctrl-C cannot leave objects behind."""

    def __enter__(self):
        self.previous = {}
        for number in (signal.SIGINT, signal.SIGTERM):
            try:
                self.previous[number] = signal.signal(number, signal.SIG_IGN)
            except ValueError:  # not in the main thread
                pass
        return self

    def __exit__(self, *exc_info):
        for number, handler in self.previous.items():
            signal.signal(number, handler)
        return False
