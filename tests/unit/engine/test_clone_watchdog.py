"""The clone watchdog's decisions, against a real folder and a writer thread standing in for the step.

The brakes here act on that thread (freeze holds it between two writes); the real brakes, the
container's cgroup freezer and its removal, are exercised in tests/security/test_clone_disk_cap.py.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from wave_sandbox.engine.clone_watchdog import CloneCeiling, CloneWatchdog, ContainerBrakes
from wave_sandbox.workspace.disk_usage import MIB

CEILING_MB = 8


class Writer:
    """Writes 1 MiB files into the clone until stopped; a frozen writer waits between two files."""

    def __init__(self, clone: Path, files: int):
        self.clone, self.files = clone, files
        self.thawed = threading.Event()
        self.thawed.set()
        self.stopped = threading.Event()
        self.calls: list[str] = []
        self.thread = threading.Thread(target=self._write, daemon=True)

    def brakes(self, freeze_fails: bool = False) -> ContainerBrakes:
        def freeze():
            self.calls.append("freeze")
            if freeze_fails:
                raise RuntimeError("unable to freeze")
            self.thawed.clear()

        def thaw():
            self.calls.append("thaw")
            self.thawed.set()

        def stop():
            self.calls.append("stop")
            self.stopped.set()
            self.thawed.set()

        return ContainerBrakes(freeze, thaw, stop)

    def _write(self) -> None:
        for number in range(self.files):
            self.thawed.wait()
            if self.stopped.is_set():
                return
            with open(self.clone / f"fill{number}", "wb") as stream:
                stream.write(b"\0" * MIB)
                stream.flush()
                os.fsync(stream.fileno())
            time.sleep(0.02)


def clone_folder(tmp_path: Path) -> Path:
    clone = tmp_path / "clone"
    (clone / ".git").mkdir(parents=True)
    (clone / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (clone / "app.py").write_text("print('hello')\n")
    return clone


def wait_for(condition, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_writer_past_the_ceiling_is_frozen_then_stopped_with_one_line(tmp_path):
    clone = clone_folder(tmp_path)
    writer = Writer(clone, files=200)
    watchdog = CloneWatchdog(CloneCeiling(clone, CEILING_MB), writer.brakes(), walk_every_s=30)
    watchdog.start()
    writer.thread.start()
    wait_for(lambda: watchdog.tripped is not None)
    watchdog.finish()
    assert watchdog.tripped.startswith(f"stopped: the read-write clone grew past its ceiling of {CEILING_MB} MiB")
    assert "\n" not in watchdog.tripped
    assert writer.calls[-1] == "stop" and "freeze" in writer.calls  # the tripwire froze it: walks were 30 s apart
    written = len(list(clone.glob("fill*")))
    # The payload got there, and past it by what one tripwire period (20 ms) lets through; a loaded
    # machine can delay the tripwire's thread by a few hundred ms (files of 20+ ms each), never by the
    # 30 s until the first walk, which would let all 200 files through.
    assert CEILING_MB <= written <= CEILING_MB + 24, written
    assert watchdog.report.frozen_walks >= 1


def test_a_sparse_file_takes_no_disk_and_is_caught_by_the_periodic_walk(tmp_path):
    clone = clone_folder(tmp_path)
    calls = []
    brakes = ContainerBrakes(lambda: calls.append("freeze"), lambda: calls.append("thaw"), lambda: calls.append("stop"))
    watchdog = CloneWatchdog(CloneCeiling(clone, CEILING_MB), brakes, walk_every_s=0.2)
    watchdog.start()
    with open(clone / "sparse", "wb") as stream:
        stream.truncate(1024 * MIB)
    wait_for(lambda: watchdog.tripped is not None)
    watchdog.finish()
    assert "(at least 1025 MiB)" in watchdog.tripped
    assert calls[-1] == "stop"


def test_a_clone_already_over_its_ceiling_stops_the_step_before_it_starts(tmp_path):
    clone = clone_folder(tmp_path)
    (clone / "left-by-an-earlier-step").write_bytes(b"x" * ((CEILING_MB + 1) * MIB))
    calls = []
    brakes = ContainerBrakes(lambda: calls.append("freeze"), lambda: None, lambda: calls.append("stop"))
    watchdog = CloneWatchdog(CloneCeiling(clone, CEILING_MB), brakes)
    watchdog.start()
    assert watchdog.tripped.startswith("the read-write clone already holds")
    assert "did not start" in watchdog.tripped and calls[-1] == "stop"
    watchdog.finish()


def test_under_the_ceiling_nothing_is_touched(tmp_path):
    clone = clone_folder(tmp_path)
    writer = Writer(clone, files=3)
    watchdog = CloneWatchdog(CloneCeiling(clone, CEILING_MB), writer.brakes(), walk_every_s=0.1)
    watchdog.start()
    writer.thread.start()
    writer.thread.join()
    time.sleep(0.3)
    watchdog.finish()
    assert watchdog.tripped is None and "stop" not in writer.calls
    # Other writers on this host may make the tripwire look (freeze, measure, thaw): never left frozen.
    assert writer.calls.count("freeze") == writer.calls.count("thaw")
    assert 3 * MIB < watchdog.report.largest_bytes < 4 * MIB and watchdog.report.walks >= 2


def test_the_last_measurement_after_the_step_counts(tmp_path):
    clone = clone_folder(tmp_path)
    calls = []
    brakes = ContainerBrakes(lambda: calls.append("freeze"), lambda: calls.append("thaw"), lambda: calls.append("stop"))
    watchdog = CloneWatchdog(CloneCeiling(clone, CEILING_MB), brakes, tripwire_s=30, walk_every_s=30)
    watchdog.start()
    with open(clone / "sparse-after-the-last-walk", "wb") as stream:
        stream.truncate(CEILING_MB * MIB)
    watchdog.finish()  # the step's container is gone: the clone is what the host will commit
    assert watchdog.tripped is not None and "grew past" in watchdog.tripped and calls[-1] == "stop"


def test_when_the_engine_cannot_freeze_the_clone_is_measured_all_the_same(tmp_path):
    clone = clone_folder(tmp_path)
    writer = Writer(clone, files=200)
    watchdog = CloneWatchdog(CloneCeiling(clone, CEILING_MB), writer.brakes(freeze_fails=True), walk_every_s=30)
    watchdog.start()
    writer.thread.start()
    wait_for(lambda: watchdog.tripped is not None)
    watchdog.finish()
    assert watchdog.tripped and "grew past" in watchdog.tripped
    assert writer.calls[-1] == "stop" and "unable to freeze" in watchdog.report.error


def test_empty_files_trip_the_inode_tripwire_before_any_walk(tmp_path):
    clone = clone_folder(tmp_path)
    calls = []
    brakes = ContainerBrakes(lambda: calls.append("freeze"), lambda: calls.append("thaw"), lambda: calls.append("stop"))
    watchdog = CloneWatchdog(CloneCeiling(clone, CEILING_MB), brakes, walk_every_s=60)
    watchdog.start()
    folder = clone / "many"
    folder.mkdir()
    for number in range(3000):  # 3000 inodes of 4 KiB each: past 8 MiB, with no block written
        (folder / str(number)).touch()
    wait_for(lambda: watchdog.tripped is not None, timeout_s=60)
    watchdog.finish()
    assert watchdog.tripped and "grew past" in watchdog.tripped
    assert calls[-2:] == ["freeze", "stop"] or calls[-3:] == ["freeze", "stop", "stop"], calls
    report = watchdog.report
    assert report.walks - report.frozen_walks == 1  # found by the tripwire: the only unfrozen walk was the first
