"""`make bench`: the sandbox's overhead, measured in one process run (issue 3, item 7).

    (a)  the floor: `docker run --rm <agent image> python3 -c "import anthropic"`
    (b)  the whole `wave-sandbox run` process, one step, the scripted model answering at once
    (c)  the five-step incident-response on the demo repository, scripted model
    (d1) one step of three scripted turns of `delay_s: 2` (two `bash true` calls, then text)
    (d)  six such independent steps with `--max-parallel 6`
    (a-runsc), (b-runsc)  (a) and (b) under gVisor, when the engine has runsc (else left out, said so)

`--startup-only` measures (a) and (b) alone, for the step start-up ratio b/a.
Each is repeated N times (`--repeat N`, default 5; `--quick` is 2), the rounds interleaved so that
background load hits every measurement alike. One unrecorded warm-up of (a) and (b) comes first.
Prints the medians and b/a <= 1.2, c/(5a) <= 1.5, d/d1 <= 1.6 with PASS or MISS, and gVisor's cost
(b-runsc against b, a and a-runsc; no target); writes the numbers
to benchmarks/results/latest.json. Exit status 0 when the bench ran, whatever the verdicts; 1 when a
measured command failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from bench_fixtures import PROJECT_DIR, BenchFixtures, prepare_fixtures
from bench_measure import BenchFailure, Sample, measure_floor, measure_wave_sandbox_run
from bench_report import (
    DELAYED_ONE,
    DELAYED_SIX,
    FLOOR,
    FLOOR_GVISOR,
    INCIDENT,
    INSTANT,
    INSTANT_GVISOR,
    Measurement,
    compute_ratios,
    render_table,
    results_document,
    write_results,
)

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "latest.json"
DEFAULT_REPEAT = 5
QUICK_REPEAT = 2


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Measure wave-sandbox's overhead (issue 3, item 7).")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, help="repetitions of each (default 5)")
    parser.add_argument("--quick", action="store_true", help="2 repetitions")
    parser.add_argument("--keep-temp", action="store_true", help="keep the scratch folder (run records)")
    parser.add_argument(
        "--wait-quiet", type=float, default=0, metavar="SECONDS",
        help="before each measurement, wait up to SECONDS for other containers to stop (shared machines)",
    )  # fmt: skip
    parser.add_argument(
        "--startup-only", action="store_true",
        help="measure only the floor and the one-step run under runc, (a) and (b): the start-up ratio b/a",
    )  # fmt: skip
    parser.add_argument("--results", type=Path, default=RESULTS_FILE, help="where to write the JSON")
    arguments = parser.parse_args(argv)
    if arguments.quick:
        arguments.repeat = QUICK_REPEAT
    if arguments.repeat < 1:
        parser.error("--repeat must be at least 1")
    return arguments


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def agent_image_tag() -> str:
    """The tag `wave-sandbox run` itself would use (built here when missing, so no run pays for it)."""
    from wave_sandbox.sandbox.client import docker_client
    from wave_sandbox.sandbox.images import ensure_agent_image

    return ensure_agent_image(docker_client(), progress)


def measurement_plan(
    image: str, fixtures: BenchFixtures, scratch: Path, with_gvisor: bool, startup_only: bool = False
) -> dict[str, Callable[[int], Sample]]:
    """One callable per measurement, taking the round number (each run gets its own --output)."""

    def run_of(key: str, scenario) -> Callable[[int], Sample]:
        return lambda round_number: measure_wave_sandbox_run(
            scenario, scratch / "output" / f"{key}-{round_number}", cwd=scratch
        )

    gvisor = {
        FLOOR_GVISOR: lambda round_number: measure_floor(image, "runsc"),
        INSTANT_GVISOR: run_of(INSTANT_GVISOR, dataclasses.replace(fixtures.instant_one_step, runtime="runsc")),
    }
    startup = {FLOOR: lambda round_number: measure_floor(image), INSTANT: run_of(INSTANT, fixtures.instant_one_step)}
    if startup_only:
        return startup
    return {
        **startup,
        **(gvisor if with_gvisor else {}),
        INCIDENT: run_of(INCIDENT, fixtures.incident_response),
        DELAYED_ONE: run_of(DELAYED_ONE, fixtures.delayed_one_step),
        DELAYED_SIX: run_of(DELAYED_SIX, fixtures.delayed_six_steps),
    }


def run_rounds(
    plan: dict[str, Callable[[int], Sample]], repeat: int, disturbances: list[str], wait_quiet_s: float
) -> dict[str, Measurement]:
    progress("warm-up: (a) and (b), under each runtime, not recorded")
    for key in (FLOOR, INSTANT, FLOOR_GVISOR, INSTANT_GVISOR):
        if key in plan:
            plan[key](0)
    measurements = {key: Measurement(key) for key in plan}
    for round_number in range(1, repeat + 1):
        for key, measure in plan.items():
            wait_for_quiet(wait_quiet_s)
            note_other_containers(disturbances, f"round {round_number} ({key})")
            sample = measure(round_number)
            measurements[key].samples.append(sample)
            progress(f"round {round_number}/{repeat}: ({key}) {sample.wall_s:.2f} s")
    return measurements


def running_container_count() -> int:
    completed = subprocess.run(["docker", "ps", "-q"], capture_output=True, text=True)
    return len(completed.stdout.split())


def wait_for_quiet(wait_quiet_s: float) -> None:
    deadline = time.monotonic() + wait_quiet_s
    while time.monotonic() < deadline and running_container_count():
        time.sleep(2)


def note_other_containers(disturbances: list[str], moment: str) -> None:
    """Our runs are over between measurements: any container running now is someone else's load."""
    running = running_container_count()
    if running:
        disturbances.append(f"{running} other container(s) running before {moment}")


def engine_has_gvisor() -> bool:
    from wave_sandbox.sandbox.client import docker_client
    from wave_sandbox.sandbox.runtimes import GVISOR, engine_runtimes

    return GVISOR in engine_runtimes(docker_client())


def run_context(image: str, repeat: int) -> dict:
    return {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "repeat": repeat,
        "agent_image": image,
        "wave_sandbox_commit": git_head(),
        "host": {
            "cpus": os.cpu_count(),
            "load_average_at_start": list(os.getloadavg()),
            "python": platform.python_version(),
            "docker": docker_server_version(),
        },
    }


def git_head() -> str | None:
    completed = subprocess.run(
        ["git", "-C", str(PROJECT_DIR), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True
    )
    return completed.stdout.strip() or None


def docker_server_version() -> str | None:
    completed = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True
    )
    return completed.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    image = agent_image_tag()
    context = run_context(image, arguments.repeat)
    scratch = Path(tempfile.mkdtemp(prefix="wave-sandbox-bench-"))
    disturbances: list[str] = []
    with_gvisor = engine_has_gvisor()
    if not with_gvisor:
        progress("the engine has no runsc runtime: gVisor's cost is left out (see SECURITY.md to add it)")
    try:
        plan = measurement_plan(image, prepare_fixtures(scratch), scratch, with_gvisor, arguments.startup_only)
        measurements = run_rounds(plan, arguments.repeat, disturbances, arguments.wait_quiet)
    except BenchFailure as failure:
        progress(f"bench failed: {failure}")
        return 1
    finally:
        if arguments.keep_temp:
            progress(f"scratch folder kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    context["host"]["load_average_at_end"] = list(os.getloadavg())
    context["disturbances"] = disturbances
    ratios = compute_ratios(measurements)
    header = (
        f"wave-sandbox bench: {arguments.repeat} repetition(s), {image}, "
        f"{os.cpu_count()} CPUs, load {context['host']['load_average_at_start'][0]:.2f} at start"
    )
    print(render_table(measurements, ratios, header))
    if disturbances:
        print(f"\nwarning: other containers ran during the bench ({len(disturbances)} times, "
              f"e.g. {disturbances[0]}); the numbers are noisy, run it again on a quiet machine")
    write_results(arguments.results, results_document(measurements, ratios, context))
    print(f"\nNumbers written to {display_path(arguments.results)}")
    return 0


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
