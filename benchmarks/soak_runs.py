"""Launch one soak run as a real `wave-sandbox run` process, signal it at its planned moment, and
say how it ended; resume a run the same way."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from soak_pipelines import SoakRun, write_run_files

SIGNALS = {"SIGKILL": signal.SIGKILL, "SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}
RUN_TIMEOUT_S = 600
# How a run may end: (exit status, the signal it got or None)
EXPECTED_ENDINGS = {
    None: {0},
    "SIGKILL": {0, -signal.SIGKILL},
    # 130 once the CLI handles signals; -2/-15 when the signal lands while Python is still starting
    "SIGINT": {0, 130, -signal.SIGINT},
    "SIGTERM": {0, 130, -signal.SIGTERM},
}


@dataclass
class RunEnding:
    run: SoakRun
    exit_status: int
    signalled: bool
    run_id: str | None
    seconds: float
    stderr_tail: str
    during_restart: bool = False

    @property
    def expected(self) -> bool:
        allowed = EXPECTED_ENDINGS[self.run.signal_name if self.signalled else None]
        if self.during_restart:  # the daemon went away under it: a failed step or an unreachable daemon
            allowed = allowed | {1, 2}
        return self.exit_status in allowed


@dataclass(frozen=True)
class SoakPlace:
    cli: Path
    repo: Path
    definitions: Path
    outputs: Path


def launch(run: SoakRun, place: SoakPlace) -> RunEnding:
    pipeline, script = write_run_files(run, place.definitions)
    command = [str(place.cli), "run", str(pipeline), run.input_text, "--repo", str(place.repo),
               "--model", f"scripted:{script}", "--output", str(place.outputs / str(run.number)),
               "--json", "--max-parallel", "2"]  # fmt: skip
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=place.definitions, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, text=True)
    signalled = threading.Event()
    timer = _signal_later(process, run, signalled) if run.signal_name else None
    try:
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    finally:
        if timer is not None:
            timer.cancel()
    return RunEnding(run, process.returncode, signalled.is_set(), _run_id(stdout), time.monotonic() - started,
                     stderr.strip()[-400:])


def _signal_later(process: subprocess.Popen, run: SoakRun, signalled: threading.Event) -> threading.Timer:
    def send() -> None:
        if process.poll() is None:
            signalled.set()
            process.send_signal(SIGNALS[run.signal_name])

    timer = threading.Timer(run.signal_after_s, send)
    timer.daemon = True
    timer.start()
    return timer


def _run_id(stdout: str) -> str | None:
    for line in stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("run_id"):
            return str(event["run_id"])
    return None


def resume(cli: Path, repo: Path, run_id: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(cli), "resume", run_id, "--repo", str(repo), "--json"], capture_output=True,
                          text=True, timeout=RUN_TIMEOUT_S, check=False, stdin=subprocess.DEVNULL)


def clean(cli: Path, repo: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(cli), "clean", "--repo", str(repo)], capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S, check=False)
