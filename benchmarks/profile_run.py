"""Where the time of one `wave-sandbox run` goes, phase by phase, in milliseconds.

    .venv/bin/python benchmarks/profile_run.py [--scenario instant|incident|delayed-1|delayed-6]
                                               [--repeat N] [--timeline] [--keep-temp]
                                               [--experiment NAME ...] [--compare]

Spawns a child process that runs wave-sandbox's own CLI entry point in-process with timing probes
around its phases (profile_probes.py) and writes what they saw; the parent times the child from spawn
to exit, so the report covers the whole process: interpreter start, the CLI's imports, the run path's
imports, image check, leftover sweep, network, firewall rules, gateway, each step's volume, container,
exec (and the agent's first model request inside it), collection, destroy, teardown, interpreter exit.
Prints the median of each phase over the repetitions; `--timeline` adds the last run's spans in order.
`--experiment NAME` patches a proposed speed-up into the child first (profile_experiments.py);
`--compare` prints only the whole-process medians of the baseline, each experiment and all of them.
"""

from __future__ import annotations

import time

_SCRIPT_STARTED = time.perf_counter()

import argparse  # noqa: E402  (after the clock: the interpreter's start is part of what is measured)
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

SPAWN_CLOCK_VARIABLE = "WAVE_SANDBOX_PROFILE_SPAWNED_AT"
# Kept in step with profile_experiments.EXPERIMENTS (not imported here: the child's clock is running).
EXPERIMENT_NAMES = [
    "agent-fast-exit", "agent-gc-freeze", "min-one-cpu", "mkdir-in-agent-exec", "async-destroy", "cli-fast-exit",
]  # fmt: skip


def run_child(output_file: Path, cli_arguments: list[str], experiments: list[str]) -> None:
    """In the child: import as the CLI does, install probes (and experiments), run `main()`, write the spans."""
    from profile_experiments import apply_experiments
    from profile_probes import Recorder, install_probes

    recorder = Recorder(float(os.environ[SPAWN_CLOCK_VARIABLE]))
    recorder.add("interpreter start (spawn to first line of the script)", 0.0, (_SCRIPT_STARTED - recorder.origin) * 1000, 0)
    started = recorder.now_ms()
    gc.disable()  # as the console script's launcher and cli.app.main do while they load
    import wave_sandbox.cli.app as cli_app

    cli_app.register_commands(cli_app.commands_named_by(cli_arguments, os.environ))
    gc.enable()
    recorder.add("CLI imports (cli.app + the named command's module)", started, recorder.now_ms() - started, 0)
    started = recorder.now_ms()
    missing = install_probes(recorder)
    recorder.add("run path imports (those the command module did not load)", started, recorder.now_ms() - started, 0)
    apply_experiments(experiments)
    sys.argv = ["wave-sandbox", *cli_arguments]
    exit_code = 0
    try:
        cli_app.main()
    except SystemExit as exit_request:
        exit_code = exit_request.code if isinstance(exit_request.code, int) else 1
    document = {"spans": [vars(span) for span in recorder.spans], "missing_probes": missing,
                "exit_code": exit_code, "ended_ms": recorder.now_ms()}  # fmt: skip
    output_file.write_text(json.dumps(document))
    if "cli-fast-exit" in experiments:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exit_code)
    sys.exit(exit_code)


def run_parent(arguments: argparse.Namespace) -> int:
    import shutil
    import tempfile

    from bench_fixtures import prepare_fixtures
    from bench_measure import wave_sandbox_run_command
    from profile_report import print_report

    scratch = Path(tempfile.mkdtemp(prefix="wave-sandbox-profile-"))
    try:
        scenario = scenario_of(prepare_fixtures(scratch), arguments.scenario)
        if arguments.compare:
            compare_experiments(scenario, scratch, arguments)
            return 0
        runs = []
        for number in range(1, arguments.repeat + 1):
            command = wave_sandbox_run_command(scenario, scratch / "output" / str(number))
            runs.append(profile_once(command[1:], scratch, scenario.repo, arguments.experiment))
            print(f"run {number}/{arguments.repeat}: {runs[-1]['wall_ms']:.0f} ms", file=sys.stderr)
        title = arguments.scenario + "".join(f", experiment {name}" for name in arguments.experiment)
        print_report(runs, title, arguments.timeline)
    finally:
        if arguments.keep_temp:
            print(f"scratch folder kept: {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


def compare_experiments(scenario, scratch: Path, arguments: argparse.Namespace) -> None:
    """Baseline, each experiment alone, then all together; interleaved so that load hits all alike.

    The experiments are those given with --experiment, or every one.
    """
    import statistics

    from bench_measure import wave_sandbox_run_command

    # agent-fast-exit and agent-gc-freeze replace the same command; together, the one applied last wins.
    chosen = arguments.experiment or EXPERIMENT_NAMES
    variants = [[]] + [[name] for name in chosen] + ([chosen] if len(chosen) > 1 else [])
    walls: dict[str, list[float]] = {}
    for number in range(1, arguments.repeat + 1):
        for variant in variants:
            name = "all together" if len(variant) > 1 else "".join(variant)
            command = wave_sandbox_run_command(scenario, scratch / "output" / f"{number}-{len(walls)}")
            run = profile_once(command[1:], scratch, scenario.repo, variant)
            walls.setdefault(name or "baseline", []).append(run["wall_ms"])
            print(f"run {number}/{arguments.repeat}: {name or 'baseline'} {run['wall_ms']:.0f} ms", file=sys.stderr)
    baseline = statistics.median(walls["baseline"])
    print(f"`wave-sandbox run` ({arguments.scenario}), whole process, ms, median of {arguments.repeat}\n")
    print(f"{'variant':<28} {'median':>8} {'saved':>7}   per run")
    for name, values in walls.items():
        median = statistics.median(values)
        print(f"{name:<28} {median:>8.0f} {baseline - median:>7.0f}   " + " ".join(f"{v:.0f}" for v in values))


def scenario_of(fixtures, name: str):
    return {
        "instant": fixtures.instant_one_step,
        "incident": fixtures.incident_response,
        "delayed-1": fixtures.delayed_one_step,
        "delayed-6": fixtures.delayed_six_steps,
    }[name]


def profile_once(cli_arguments: list[str], scratch: Path, repo: Path, experiments: list[str]) -> dict:
    spans_file = scratch / "spans.json"
    experiment_options = [option for name in experiments for option in ("--experiment", name)]
    environment = {**os.environ, SPAWN_CLOCK_VARIABLE: repr(time.perf_counter())}
    spawned = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, __file__, "--child", str(spans_file), *experiment_options, "--", *cli_arguments],
        cwd=scratch, env=environment, capture_output=True, text=True,
    )  # fmt: skip
    wall_ms = (time.perf_counter() - spawned) * 1000
    if completed.returncode != 0:
        last_event = (completed.stdout.strip().splitlines() or [""])[-1]
        raise SystemExit(
            f"profiled run failed ({completed.returncode}):\n{completed.stderr[-2000:]}\n{last_event[:2000]}"
        )
    document = json.loads(spans_file.read_text())
    document["wall_ms"] = wall_ms
    document["run_folder"] = str(newest_run_folder(repo))
    return document


def newest_run_folder(repo: Path) -> Path:
    return max((repo / ".wave" / "runs").glob("2*"), key=lambda folder: folder.stat().st_mtime)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Profile one `wave-sandbox run`, phase by phase.")
    parser.add_argument("--scenario", default="instant", choices=["instant", "incident", "delayed-1", "delayed-6"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeline", action="store_true", help="print the last run's spans in order")
    parser.add_argument("--compare", action="store_true",
                        help="whole-process time of the baseline, each experiment (--experiment, else all) "
                             "alone and all together")
    parser.add_argument("--keep-temp", action="store_true")
    parser.add_argument("--experiment", action="append", default=[], choices=EXPERIMENT_NAMES,
                        help="patch in a proposed speed-up (profile_experiments.py); repeatable")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("cli_arguments", nargs="*", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    parsed = parse_arguments(None)
    if parsed.child:
        run_child(parsed.child, parsed.cli_arguments, parsed.experiment)
    sys.exit(run_parent(parsed))
