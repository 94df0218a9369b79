"""The disk ceiling of the read-write clone, enforced from the host while the step runs.

The clone is a folder on the host's disk (the host commits from it, `resume` starts from it), and
no size-limited volume that keeps its content and that the host can read is open to an ordinary
user of the docker group (a tmpfs volume dies with its container; a loop-mounted image needs root;
overlay2's size option needs xfs with project quotas). So a host thread watches it:

- Every ``TRIPWIRE_S`` (20 ms) it reads the free blocks and inodes of the clone's filesystem (one
  statvfs, no walk). When what was used since the last measurement could have taken the clone past
  its ceiling (other writers on the host only make this come sooner), the container is frozen (the cgroup freezer: no process in it can write a byte more), the clone is
  measured, and the step is stopped, or thawed when it is still below. The overshoot is what the
  agent writes between two tripwire reads plus the time to freeze, whatever the size of the tree.
- Every ``WALK_EVERY_S`` (or four times the last walk's duration, on large trees) it measures the
  clone without freezing it: sparse files, which take no disk but count at their length, are
  caught there (see ``workspace.disk_usage`` for what counts).
- A walk that meets a folder swapped under it, or that it cannot list, is repeated frozen.

The step is stopped by removing its container; the step then fails with ``ceiling_message``. A
clone already over its ceiling when the step starts fails the step before the agent runs.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from wave_sandbox.spec.personas import DEFAULT_CLONE_MB
from wave_sandbox.workspace.disk_usage import MIB, SMALLEST_CHARGE, UnmeasurableTree, measure_disk_use

TRIPWIRE_S = 0.02
"""One statvfs (a few microseconds) this often: the overshoot is what a step writes in this time plus a freeze."""
WALK_EVERY_S = 1.0
WALK_COST_FACTOR = 4
"""Between two unfrozen walks, at least this many times the last one's duration (at most 25% of a core)."""
GIT_FOLDER = ".git"


@dataclass(frozen=True)
class CloneCeiling:
    """The read-write clone a step writes to, and the most disk it may hold while the step runs."""

    clone: Path
    ceiling_mb: int = DEFAULT_CLONE_MB

    @property
    def ceiling_bytes(self) -> int:
        return self.ceiling_mb * MIB


@dataclass(frozen=True)
class ContainerBrakes:
    """What the watchdog may do to the step's container."""

    freeze: Callable[[], None]
    thaw: Callable[[], None]
    stop: Callable[[], None]


def ceiling_message(ceiling_mb: int, measured_bytes: int, already: bool = False) -> str:
    """The step's failure line; the walk ends once past the ceiling, so the size is a lower bound."""
    measured = f"at least {-(-measured_bytes // MIB)} MiB"
    if already:
        return (f"the read-write clone already holds {measured}, over its ceiling of {ceiling_mb} MiB; "
                "the step did not start (raise the persona's limits.clone_mb if the repository needs it)")
    return (f"stopped: the read-write clone grew past its ceiling of {ceiling_mb} MiB ({measured}); "
            "raise the persona's limits.clone_mb if the change really needs more room")


def _unmeasurable_message(error: Exception) -> str:
    return f"stopped: the read-write clone could not be measured ({error}); a step may not hide folders from the host"


@dataclass
class WatchReport:
    """What the watchdog saw, for the step record and the tests."""

    ceiling_mb: int = DEFAULT_CLONE_MB
    walks: int = 0
    frozen_walks: int = 0
    largest_bytes: int = 0
    longest_walk_s: float = 0.0
    tripped_after_s: float | None = None
    error: str | None = None
    """The last brake that failed (the engine would not freeze, or the container was already gone)."""

    def as_record(self) -> dict:
        """The report for run.json, sizes in MiB."""
        return {
            "ceiling_mb": self.ceiling_mb,
            "largest_mb": -(-self.largest_bytes // MIB),
            "walks": self.walks,
            "frozen_walks": self.frozen_walks,
            "longest_walk_ms": int(self.longest_walk_s * 1000),
            "stopped_after_ms": None if self.tripped_after_s is None else int(self.tripped_after_s * 1000),
            "error": self.error,
        }


def watch_clone(sandbox, handle, ceiling: CloneCeiling | None) -> "CloneWatchdog | None":
    """Start watching the clone of a step that writes to it (None for other steps).

    The brakes are the sandbox's: freeze and thaw its container, and remove it to stop the step.
    """
    if ceiling is None:
        return None
    brakes = ContainerBrakes(
        freeze=lambda: sandbox.freeze(handle), thaw=lambda: sandbox.thaw(handle), stop=lambda: sandbox.destroy(handle)
    )
    watchdog = CloneWatchdog(ceiling, brakes)
    watchdog.start()
    return watchdog


@dataclass(frozen=True)
class _Baseline:
    """The clone's size at the last measurement, and its filesystem's free space just before it."""

    used_bytes: int
    free: "_FreeSpace"


class CloneWatchdog:
    """Watches one step's clone from `start()` to `finish()`; `tripped` holds the failure line, if any."""

    def __init__(self, ceiling: CloneCeiling, brakes: ContainerBrakes,
                 tripwire_s: float = TRIPWIRE_S, walk_every_s: float = WALK_EVERY_S):
        self.ceiling = ceiling
        self.brakes = brakes
        self.tripwire_s = tripwire_s
        self.walk_every_s = walk_every_s
        self.tripped: str | None = None
        self.report = WatchReport(ceiling_mb=ceiling.ceiling_mb)
        self._git_bytes = 0
        self._baseline: _Baseline | None = None
        self._next_walk = 0.0
        self._frozen = False
        self._started = time.monotonic()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Measure the clone now (its `.git`, read-only to the agent, only now), then watch it."""
        git_folder = self.ceiling.clone / GIT_FOLDER
        self._git_bytes = measure_disk_use(git_folder).bytes if git_folder.is_dir() else 0
        try:
            self._measure(frozen=False, first=True)
        except UnmeasurableTree as error:
            self._trip(_unmeasurable_message(error))
        if self.tripped is None:
            self._thread = threading.Thread(target=self._watch, name="clone-watchdog", daemon=True)
            self._thread.start()

    def finish(self) -> None:
        """Stop watching, then measure once more: what the step left is what the host will commit."""
        self._done.set()
        if self._thread is not None:
            self._thread.join()
        if self.tripped is None:
            try:
                self._measure(frozen=False)
            except UnmeasurableTree as error:
                self._trip(_unmeasurable_message(error))

    def _watch(self) -> None:
        while not self._done.wait(self.tripwire_s) and self.tripped is None:
            try:
                self._look()
            except UnmeasurableTree as error:  # even frozen: a folder the host cannot list
                self._trip(_unmeasurable_message(error))
            except Exception as error:  # noqa: BLE001 - the clone went away under us: kept in the report
                self.report.error = f"{type(error).__name__}: {error}"
                return

    def _look(self) -> None:
        try:
            if self._may_have_passed_the_ceiling():
                self._measure_frozen()
            elif time.monotonic() >= self._next_walk:
                self._measure(frozen=False)
        except UnmeasurableTree:  # a folder swapped or closed under the walk: walk again, frozen
            self._measure_frozen()

    def _may_have_passed_the_ceiling(self) -> bool:
        """The filesystem lost more free space since the last measurement than the clone had left
        (each inode taken counting as the smallest charge: empty files take inodes, not blocks)."""
        before, now = self._baseline.free, _free_space(self.ceiling.clone)
        used_since = before.bytes - now.bytes + (before.inodes - now.inodes) * SMALLEST_CHARGE
        return self._baseline.used_bytes + used_since > self.ceiling.ceiling_bytes

    def _measure_frozen(self) -> None:
        """Freeze, measure, thaw; when the engine will not freeze, measure all the same."""
        self._frozen = self._apply(self.brakes.freeze)
        try:
            self._measure(frozen=self._frozen)
        finally:
            if self._frozen and self.tripped is None:
                self._apply(self.brakes.thaw)
                self._frozen = False

    def _apply(self, brake: Callable[[], None]) -> bool:
        """Use a brake; a failure is kept in the report (the container may be gone: the step is ending)."""
        try:
            brake()
            return True
        except Exception as error:  # noqa: BLE001
            self.report.error = f"{type(error).__name__}: {error}"
            return False

    def _measure(self, frozen: bool, first: bool = False) -> None:
        free_before = _free_space(self.ceiling.clone)
        limit = self.ceiling.ceiling_bytes - self._git_bytes
        use = measure_disk_use(self.ceiling.clone, skip_top_level=(GIT_FOLDER,), stop_above=max(limit, 0))
        total = use.bytes + self._git_bytes
        self._count(use.seconds, total, frozen)
        if total > self.ceiling.ceiling_bytes:
            self._trip(ceiling_message(self.ceiling.ceiling_mb, total, already=first))
            return
        self._baseline = _Baseline(total, free_before)
        self._next_walk = time.monotonic() + max(self.walk_every_s, WALK_COST_FACTOR * use.seconds)

    def _count(self, seconds: float, total: int, frozen: bool) -> None:
        report = self.report
        report.walks += 1
        report.frozen_walks += int(frozen)
        report.largest_bytes = max(report.largest_bytes, total)
        report.longest_walk_s = max(report.longest_walk_s, seconds)

    def _trip(self, message: str) -> None:
        self.tripped = message
        self.report.tripped_after_s = time.monotonic() - self._started
        # Freezing takes a few milliseconds, removing the container a second under load: freeze first,
        # so nothing more is written while it goes (the step's own finally removes it again if this fails).
        if not self._frozen:
            self._apply(self.brakes.freeze)
        self._apply(self.brakes.stop)


@dataclass(frozen=True)
class _FreeSpace:
    bytes: int
    inodes: int


def _free_space(path: Path) -> _FreeSpace:
    figures = os.statvfs(path)
    return _FreeSpace(figures.f_bfree * figures.f_frsize, figures.f_ffree)
