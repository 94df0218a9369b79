"""The step's wall clock: a SIGALRM that interrupts whatever the agent's main thread is waiting on.

A model request (with the SDK's own retries), a tool walking a huge tree, a bash command: none of
them can keep the agent past its deadline. The bash tool's `finally` still kills its process group.
"""

from __future__ import annotations

import signal
import time
from contextlib import contextmanager


class StepTimeout(BaseException):
    """The step's wall clock ran out. A BaseException, so that no `except Exception` (the SDK's retry
    loop, a tool's guard) can swallow it on its way up."""


@contextmanager
def wall_clock_limit(deadline: float):
    """Raise StepTimeout in the main thread at `deadline` (a time.monotonic() value)."""

    def on_alarm(signum, frame):
        raise StepTimeout()

    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, max(deadline - time.monotonic(), 0.001))
    armed_at = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay:  # give back an alarm someone else had set (pytest-timeout, in tests)
            remaining = max(previous_delay - (time.monotonic() - armed_at), 0.001)
            signal.setitimer(signal.ITIMER_REAL, remaining, previous_interval)
