"""The run's environment (what lets its steps reach their gateway), made in a thread while the run's checks go on.

On Docker it is a folder for the gateway's socket (a millisecond); a backend that makes a network or
asks a cluster for policies spends the engine's time there, as the checks before the run starts (the
engine's facts, the image, the leftover sweep) do, so both go on at once. The backend's `prepare_run` is unchanged: it is
simply called from a thread, and whoever holds an `EarlyEnvironment` either takes its environment
(`result`, then tears it down as usual) or `discard`s it, so nothing made early is ever left behind.
"""

from __future__ import annotations

import threading

from wave_sandbox.sandbox.backend import RunEnvironment, SandboxBackend


class EarlyEnvironment:
    """``backend.prepare_run(run_id, owner)``, started at once in a thread of its own."""

    def __init__(self, backend: SandboxBackend, run_id: str, owner: str):
        self.backend = backend
        self.run_id = run_id
        self._environment: RunEnvironment | None = None
        self._error: BaseException | None = None
        self._taken = False
        self._thread = threading.Thread(
            target=self._prepare, args=(owner,), name=f"prepare-run-{run_id}", daemon=True
        )
        self._thread.start()

    def _prepare(self, owner: str) -> None:
        try:
            self._environment = self.backend.prepare_run(self.run_id, owner)
        except BaseException as error:  # prepare_run removed what it made; the taker gets the error
            self._error = error

    def result(self) -> RunEnvironment:
        """The environment once made (its failure raised here); the caller now tears it down."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        self._taken = True
        return self._environment

    def discard(self) -> list[str]:
        """Wait for the preparation and tear down what it made, unless `result` handed it over already;
        one line per problem."""
        if self._taken:
            return []
        self._thread.join()
        self._taken = True
        if self._environment is None:
            return []
        return self.backend.teardown_run(self._environment)
