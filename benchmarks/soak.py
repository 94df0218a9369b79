"""`make soak`: runs you can trust after anything (issue 13, item 7).

    benchmarks/soak.py [--seed S] [--runs N] [--concurrency K] [--no-dockerd-restart]

Runs N short pipelines (scripted model; serial, parallel, and read-write ones that grow a branch), K at a
time, as real `wave-sandbox run` processes against a real daemon. A seeded share of them gets SIGKILL,
SIGINT or SIGTERM at a random moment, and dockerd is restarted once in the middle (unless
`--no-dockerd-restart`: never restart a daemon others use). Then `clean`, and the checks: no labelled
container, network, volume or firewall rule of these runs, and no clone, is left; no record says
running; every step recorded completed has its artifact intact and readable; every run branch matches
its record. Then `resume` each run that did not complete, and the same checks again, with every run
completed. Prints its seed first (replay a failure with `--seed S`), then the counts and the time;
exit status 0 when every check held, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from soak_checks import (
    Findings, check_branches, check_clones, check_completed_artifacts, check_leftovers, check_no_record_says_running,
    recorded_runs,
)
from soak_dockerd import restart_dockerd
from soak_pipelines import plan_runs
from soak_runs import RunEnding, SoakPlace, clean, launch, resume

CLI = Path(sys.executable).with_name("wave-sandbox")
SHOWN_PROBLEMS = 40
PROGRESS_EVERY = 25


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Kill soak: signals and a dockerd restart, then clean, check, resume.")
    parser.add_argument("--seed", type=int, default=None, help="replay a soak (default: a fresh random seed)")
    parser.add_argument("--runs", type=int, default=200, help="pipelines to run (default 200)")
    parser.add_argument("--concurrency", type=int, default=3, help="runs at once (default 3)")
    parser.add_argument("--repos", type=int, default=3, help="repositories the runs share (default 3)")
    parser.add_argument("--kill-share", type=float, default=0.4, help="share of runs that get a signal (default 0.4)")
    parser.add_argument("--no-dockerd-restart", action="store_true", help="leave the daemon alone (shared machines)")
    parser.add_argument("--keep-temp", action="store_true", help="keep the scratch folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    seed = arguments.seed if arguments.seed is not None else int.from_bytes(os.urandom(4), "big")
    print(f"soak: seed {seed} (replay with --seed {seed}); {arguments.runs} runs, {arguments.concurrency} at once, "
          f"dockerd restart {'off' if arguments.no_dockerd_restart else 'on'}", flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="wave-soak-"))
    started = time.monotonic()
    try:
        findings = soak(arguments, random.Random(seed), scratch)
    finally:
        if not arguments.keep_temp:
            shutil.rmtree(scratch, ignore_errors=True)
    findings.counts["seconds"] = round(time.monotonic() - started)
    report(findings, seed)
    return 0 if not findings.problems else 1


def soak(arguments: argparse.Namespace, rng: random.Random, scratch: Path) -> Findings:
    findings = Findings()
    repos = [make_repository(scratch / f"repo-{index}") for index in range(arguments.repos)]
    places = [SoakPlace(CLI, repo, scratch / "definitions", scratch / "outputs") for repo in repos]
    runs = plan_runs(arguments.runs, rng, arguments.kill_share)
    endings = run_all(runs, places, arguments, findings)
    count_endings(findings, endings)
    check_everything(findings, repos, "after the runs")
    resume_unfinished(findings, repos, arguments.concurrency)
    check_everything(findings, repos, "after resume", require_completed=True)
    return findings


def make_repository(folder: Path) -> Path:
    folder.mkdir(parents=True)
    identity = ["-c", "user.name=Soak", "-c", "user.email=soak@example.com"]
    subprocess.run(["git", "-C", str(folder), "init", "-q", "-b", "main"], check=True)
    (folder / "app.py").write_text("def handler():\n    return 500\n")
    (folder / "README.md").write_text("# soak service\n")
    subprocess.run(["git", "-C", str(folder), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(folder), *identity, "commit", "-q", "-m", "init"], check=True)
    return folder.resolve()


def run_all(runs, places, arguments, findings: Findings) -> list[RunEnding]:
    """K runs at a time; in the middle (once), the daemon restarts under the runs in flight."""
    slots = threading.Semaphore(arguments.concurrency)
    in_flight: set[int] = set()
    around_restart: set[int] = set()
    endings: list[RunEnding] = []
    lock = threading.Lock()

    def one(run) -> None:
        try:
            ending = launch(run, places[run.number % len(places)])
            with lock:
                ending.during_restart = run.number in around_restart
                endings.append(ending)
                in_flight.discard(run.number)
                if len(endings) % PROGRESS_EVERY == 0:
                    print(f"soak: {len(endings)}/{len(runs)} runs ended", flush=True)
        finally:
            slots.release()

    threads = []
    for index, run in enumerate(runs):
        slots.acquire()
        if index == len(runs) // 2 and not arguments.no_dockerd_restart:
            with lock:
                around_restart.update(in_flight)
            findings.counts["dockerd restart seconds"] = round(restart_dockerd(places[0].definitions.parent / "dockerd.log"))
        with lock:
            in_flight.add(run.number)
        thread = threading.Thread(target=one, args=(run,), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return sorted(endings, key=lambda ending: ending.run.number)


def count_endings(findings: Findings, endings: list[RunEnding]) -> None:
    findings.count("runs", len(endings))
    for ending in endings:
        kind = ending.run.signal_name if ending.signalled else "no signal"
        findings.count(f"runs given {kind}" if ending.signalled else "runs left alone")
        findings.count(f"exit {ending.exit_status}")
        if not ending.expected:
            findings.problem(f"run #{ending.run.number} ({ending.run.shape}, {kind}) exited {ending.exit_status}: "
                             f"{ending.stderr_tail.splitlines()[-1] if ending.stderr_tail else ''}")


def check_everything(findings: Findings, repos: list[Path], phase: str, require_completed: bool = False) -> None:
    for repo in repos:
        cleaned = clean(CLI, repo)
        if cleaned.returncode != 0:
            findings.problem(f"clean failed {phase} ({cleaned.returncode}): {cleaned.stderr.strip()[-300:]}")
    runs = recorded_runs(repos)
    phase_findings = Findings()
    from wave_sandbox.sandbox.client import docker_client

    check_leftovers(phase_findings, {run.run_id for run in runs}, docker_client())
    check_clones(phase_findings, runs)
    check_no_record_says_running(phase_findings, CLI, repos, runs)
    check_completed_artifacts(phase_findings, runs)
    check_branches(phase_findings, repos, runs)
    if require_completed:
        for run in runs:
            if run.data.get("status") != "completed":
                phase_findings.problem(f"run {run.run_id} is {run.data.get('status')} after resume")
    for name, value in phase_findings.counts.items():
        findings.counts[f"{phase}: {name}"] = value
    findings.problems += [f"{phase}: {problem}" for problem in phase_findings.problems]


def resume_unfinished(findings: Findings, repos: list[Path], concurrency: int) -> None:
    unfinished = [run for run in recorded_runs(repos) if run.data.get("status") != "completed"]
    findings.count("runs to resume", len(unfinished))

    def one(run) -> None:
        completed = resume(CLI, run.repo, run.run_id)
        if completed.returncode == 0:
            findings.count("resumed to completion")
        else:
            findings.problem(f"resume {run.run_id} exited {completed.returncode}: {completed.stderr.strip()[-300:]}")

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        list(pool.map(one, unfinished))


def report(findings: Findings, seed: int) -> None:
    width = max(len(name) for name in findings.counts)
    for name, value in findings.counts.items():
        print(f"  {name:<{width}}  {value}")
    for problem in findings.problems[:SHOWN_PROBLEMS]:
        print(f"PROBLEM: {problem}")
    if len(findings.problems) > SHOWN_PROBLEMS:
        print(f"... and {len(findings.problems) - SHOWN_PROBLEMS} more problems")
    verdict = "PASS" if not findings.problems else f"FAIL ({len(findings.problems)} problems; replay with --seed {seed})"
    print(f"soak: {verdict} in {findings.counts['seconds']}s")


if __name__ == "__main__":
    sys.exit(main())
