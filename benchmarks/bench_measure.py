"""Timing one process: the floor's `docker run`, or a whole `wave-sandbox run` (its console script).

Each measurement is the wall-clock time of the child process, from spawn to exit, taken with
`time.perf_counter`. For `wave-sandbox run` the run's own duration (the `run_completed` event of
`--json`, from the run record's creation to teardown) is kept beside it, so the report can tell the
process's start-up and checks apart from the run itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench_fixtures import Scenario

WAVE_SANDBOX_CLI = Path(sys.executable).with_name("wave-sandbox")
FLOOR_COMMAND = ["python3", "-c", "import anthropic"]
RUN_TIMEOUT_S = 900
STDERR_TAIL_LINES = 12


class BenchFailure(Exception):
    """A measured command failed: the numbers would mean nothing, so the bench stops."""


@dataclass(frozen=True)
class Sample:
    wall_s: float
    """Spawn to exit of the measured process."""
    in_run_ms: int | None = None
    """The run's own duration (`run_completed.duration_ms`), for `wave-sandbox run` only."""
    run_id: str | None = None


def measure_floor(image: str, runtime: str | None = None) -> Sample:
    """(a): `docker run --rm IMAGE python3 -c "import anthropic"` (under ``runtime``: the gVisor floor)."""
    command = ["docker", "run", "--rm", *(["--runtime", runtime] if runtime else []), image, *FLOOR_COMMAND]
    completed, wall_s = timed_run(command, cwd=None)
    check_exit(command, completed)
    return Sample(wall_s)


def measure_wave_sandbox_run(scenario: Scenario, output_dir: Path, cwd: Path) -> Sample:
    """(b), (c), (d): the whole `wave-sandbox run` process with the scripted model, `--json` events."""
    command = wave_sandbox_run_command(scenario, output_dir)
    completed, wall_s = timed_run(command, cwd=cwd)
    check_exit(command, completed)
    final_event = last_json_event(command, completed.stdout)
    if final_event.get("state") != "run_completed":
        raise BenchFailure(f"{' '.join(command)} ended with {final_event.get('state')}: {final_event.get('message')}")
    return Sample(wall_s, final_event.get("duration_ms"), final_event.get("run_id"))


def wave_sandbox_run_command(scenario: Scenario, output_dir: Path) -> list[str]:
    command = [str(WAVE_SANDBOX_CLI), "run", scenario.pipeline]
    if scenario.input_text:
        command.append(scenario.input_text)
    command += ["--repo", str(scenario.repo), "--model", f"scripted:{scenario.script}",
                "--output", str(output_dir), "--json"]  # fmt: skip
    if scenario.max_parallel is not None:
        command += ["--max-parallel", str(scenario.max_parallel)]
    if scenario.runtime is not None:
        command += ["--runtime", scenario.runtime]
    return command


def timed_run(command: list[str], cwd: Path | None) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    try:
        completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise BenchFailure(f"{' '.join(command)} ran past {RUN_TIMEOUT_S}s") from exc
    return completed, time.perf_counter() - started


def check_exit(command: list[str], completed: subprocess.CompletedProcess) -> None:
    if completed.returncode == 0:
        return
    tail = completed.stderr.strip().splitlines()[-STDERR_TAIL_LINES:]
    tail += completed.stdout.strip().splitlines()[-1:]  # with --json, the failing run's last event
    raise BenchFailure(f"{' '.join(command)} exited with status {completed.returncode}:\n" + "\n".join(tail))


def last_json_event(command: list[str], stdout: str) -> dict:
    lines = stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError) as exc:
        raise BenchFailure(f"{' '.join(command)} printed no JSON event last: {stdout[-300:]!r}") from exc
