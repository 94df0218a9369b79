"""Benchmark of `wave-sandbox evidence`: a 50,000-commit repository and a 1 GB log (issue 6).

    .venv/bin/python benchmarks/bench_evidence.py                  # build into a temp folder, measure, clean up
    .venv/bin/python benchmarks/bench_evidence.py --data /tmp/ev   # keep the data there and reuse it next time
    .venv/bin/python benchmarks/bench_evidence.py --quick          # 5,000 commits and 100 MB, to try it out

The repository is written in one `git fast-import` stream: 50 packages of 40 modules, 50,000 commits
by six authors over two years, each changing a function or two; 30 hours before the onset one of
them breaks `compute_total`, and many later commits touch other functions of the same files. The log
(ISO lines, about 130 bytes each) covers the 24 hours before the onset and 2 hours after: access
lines, a steady background error with its traceback, and from the onset the incident's tracebacks
through the broken function.

Measured: the wall time of the whole `wave-sandbox evidence --json` process, and the peak resident
memory of it or of the largest process it ran (os.wait4's rusage, ru_maxrss), against the
targets: under 30 s and under 500 MB. `--tracemalloc` also runs the pass in this process and reports
the peak of Python's own allocations. Checks that the onset and the culprit were found. Numbers go to
benchmarks/results/evidence.json. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
RESULTS_FILE = PROJECT_DIR / "benchmarks" / "results" / "evidence.json"
# `wave-sandbox evidence`: the console script's main(), with the command module imported first so
# that it is registered whether or not app.py lists it yet.
WAVE_SANDBOX_EVIDENCE = [
    str(PROJECT_DIR / ".venv" / "bin" / "python"), "-c",
    "import sys; from wave_sandbox.cli import evidence_cmd; from wave_sandbox.cli.app import main; "
    "sys.argv[0] = 'wave-sandbox'; main()",
    "evidence",
]  # fmt: skip
TARGET_SECONDS, TARGET_MEGABYTES = 30.0, 500.0
ONSET = datetime(2026, 3, 10, 14, 30, tzinfo=timezone.utc).timestamp()
PACKAGES, MODULES, FUNCTIONS = 50, 40, 10
CULPRIT_FILE, CULPRIT_AGE_S = "svc07/mod13.py", 30 * 3600
AUTHORS = ["Dana Whitfield <dana@shop.example>", "Ravi Menon <ravi@shop.example>", "Sam Ortiz <sam@shop.example>",
           "Priya Shah <priya@shop.example>", "Lee Novak <lee@shop.example>", "renovate[bot] <bot@renovate.example>"]
SYMPTOM = "totals failing since 14:30 UTC"
MARKER = "bench-data-complete"


def module_source(constants: list[int], broken: bool) -> str:
    functions = [f"def f{index}(value):\n    return value * {constant} + {index}\n" for index, constant in enumerate(constants)]
    divisor = "0 if cart['coupon'] else 100" if broken else "100"
    total = (
        "def compute_total(cart):\n"
        "    subtotal = sum(cart['lines'])\n"
        f"    discount = subtotal * cart['percent'] // ({divisor})\n"
        "    return subtotal - discount\n"
    )
    return "\n\n".join(functions[:5] + [total] + functions[5:])


class RepositoryBuilder:
    """Writes the fast-import stream for the benchmark repository."""

    def __init__(self, commits: int, seed: int = 7):
        self.commits = commits
        self.rng = random.Random(seed)
        self.constants = {f"svc{p:02d}/mod{m:02d}.py": [self.rng.randint(2, 99) for _ in range(FUNCTIONS)]
                          for p in range(PACKAGES) for m in range(MODULES)}
        self.broken = False

    def write(self, stream) -> None:
        start = ONSET - 2 * 365 * 86400
        step = (ONSET - 10 * 60 - start) / self.commits
        culprit_index = self.commits - int(CULPRIT_AGE_S / step)
        for index in range(1, self.commits + 1):
            when = int(start + index * step)
            if index == 1:
                changes = self._initial_files()
                message = "Initial import of the shop monorepo"
            elif index == culprit_index:
                self.broken = True
                changes = {CULPRIT_FILE: module_source(self.constants[CULPRIT_FILE], True)}
                message = "Skip the discount divisor for coupon carts"
            else:
                changes, message = self._ordinary_change(index)
            self._commit(stream, index, when, message, changes)

    def _initial_files(self) -> dict[str, str]:
        files = {path: module_source(constants, False) for path, constants in self.constants.items()}
        for package in range(PACKAGES):
            files[f"svc{package:02d}/__init__.py"] = ""
            files[f"svc{package:02d}/api.py"] = f"from svc{package:02d} import mod13\n\n\ndef handle(cart):\n    return mod13.compute_total(cart)\n"
        files["config/settings.yaml"] = "workers: 8\ntimeout_s: 30\n"
        files["README.md"] = "# shop monorepo\n"
        return files

    def _ordinary_change(self, index: int) -> tuple[dict[str, str], str]:
        changes = {}
        for _ in range(self.rng.choice((1, 1, 2, 3))):
            path = self.rng.choice(list(self.constants)) if self.rng.random() > 0.02 else CULPRIT_FILE
            function = self.rng.randrange(FUNCTIONS)
            self.constants[path][function] = self.rng.randint(2, 99)
            changes[path] = module_source(self.constants[path], self.broken and path == CULPRIT_FILE)
        if index % 97 == 0:
            changes["config/settings.yaml"] = f"workers: {self.rng.randint(4, 16)}\ntimeout_s: {self.rng.randint(10, 60)}\n"
        return changes, f"Tune {next(iter(changes))} (change {index})"

    def _commit(self, stream, index: int, when: int, message: str, changes: dict[str, str]) -> None:
        author = AUTHORS[index % len(AUTHORS)]
        parts = [f"commit refs/heads/main\nmark :{index}\nauthor {author} {when} +0000\ncommitter {author} {when} +0000\n"]
        encoded = message.encode()
        parts.append(f"data {len(encoded)}\n{message}\n")
        if index > 1:
            parts.append(f"from :{index - 1}\n")
        for path, content in changes.items():
            parts.append(f"M 100644 inline {path}\ndata {len(content.encode())}\n{content}\n")
        stream.write("".join(parts).encode())


def build_repository(target: Path, commits: int) -> float:
    started = time.perf_counter()
    environment = {**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")}, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(target)}
    subprocess.run(["git", "init", "-q", "-b", "main", str(target)], check=True, env=environment)
    importer = subprocess.Popen(["git", "-C", str(target), "fast-import", "--quiet"], stdin=subprocess.PIPE, env=environment)
    RepositoryBuilder(commits).write(importer.stdin)
    importer.stdin.close()
    if importer.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "-C", str(target), "reset", "-q", "--hard", "main"], check=True, env=environment)
    return time.perf_counter() - started


TRACE_BACKGROUND = [
    "Traceback (most recent call last):",
    '  File "/srv/app/svc03/api.py", line 5, in handle',
    "    return mod13.compute_total(cart)",
    '  File "/usr/local/lib/python3.11/site-packages/partner/client.py", line 88, in fetch',
    "    raise UpstreamTimeout(url)",
    "partner.client.UpstreamTimeout: partner did not answer within 2.0s",
]
TRACE_INCIDENT = [
    "Traceback (most recent call last):",
    '  File "/srv/app/svc07/api.py", line 5, in handle',
    "    return mod13.compute_total(cart)",
    '  File "/srv/app/svc07/mod13.py", line 23, in compute_total',
    "    discount = subtotal * cart['percent'] // (0 if cart['coupon'] else 100)",
    "ZeroDivisionError: integer division or modulo by zero",
]


def write_log(path: Path, gigabytes: float) -> float:
    """The log: ~130-byte lines, 24 h before the onset to 2 h after, written in large chunks."""
    started = time.perf_counter()
    target_bytes = int(gigabytes * 1024**3)
    begin, end = ONSET - 24 * 3600, ONSET + 2 * 3600
    rng = random.Random(3)
    bodies = [f'INFO gunicorn.access: 10.0.{i % 7}.{i % 250} "GET /api/carts/{1000 + i}?page={i % 13} HTTP/1.1" 200 {300 + i % 900} {i % 40}ms'
              for i in range(997)]
    average_line = len("2026-03-10T14:30:00.000Z ") + sum(map(len, bodies)) / len(bodies) + 1
    lines_per_second = math.ceil(target_bytes / average_line / (end - begin))
    background = "\n".join(TRACE_BACKGROUND)
    incident = "\n".join(TRACE_INCIDENT)
    written = 0
    with open(path, "w") as log:
        second = int(begin)
        while second < end and written < target_bytes:
            prefix = datetime.fromtimestamp(second, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.")
            lines = [f"{prefix}{(k * 997) % 1000:03d}Z {bodies[(second + k) % 997]}" for k in range(lines_per_second)]
            if second % 120 == 0:
                lines.append(f"{prefix}500Z ERROR svc03.app: partner rates failed (request {rng.getrandbits(32):08x})\n{background}")
            if second >= ONSET and second % 2 == 0:
                lines.append(f"{prefix}900Z ERROR svc07.app: unhandled error on POST /api/carts/total (request {rng.getrandbits(32):08x})\n{incident}")
            chunk = "\n".join(lines) + "\n"
            log.write(chunk)
            written += len(chunk)
            second += 1
    os.utime(path, (end, end))
    return time.perf_counter() - started


def prepare_data(folder: Path, commits: int, gigabytes: float) -> dict:
    marker = folder / MARKER
    wanted = {"commits": commits, "log_gb": gigabytes}
    if marker.is_file() and json.loads(marker.read_text()) == wanted:
        print(f"reusing the data in {folder}")
        return {"repo_build_s": None, "log_write_s": None}
    shutil.rmtree(folder / "repo", ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"building a {commits:,}-commit repository with git fast-import ...", flush=True)
    repo_seconds = build_repository(folder / "repo", commits)
    print(f"  {repo_seconds:.1f} s; writing a {gigabytes:g} GB log ...", flush=True)
    log_seconds = write_log(folder / "app.log", gigabytes)
    print(f"  {log_seconds:.1f} s", flush=True)
    marker.write_text(json.dumps(wanted))
    return {"repo_build_s": round(repo_seconds, 1), "log_write_s": round(log_seconds, 1)}


def measure_command(folder: Path) -> dict:
    """Run `wave-sandbox evidence --json` once; wall time and the largest process's peak memory."""
    command = [*WAVE_SANDBOX_EVIDENCE, "--repo", str(folder / "repo"), "--logs", str(folder / "app.log"),
               "--symptom", SYMPTOM, "--json"]
    with tempfile.TemporaryFile() as output, tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=output, stderr=errors)
        # wait4 gives this process's own usage: its peak, or that of the largest process it waited for.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        errors.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"wave-sandbox evidence failed ({process.returncode}): {errors.read().decode().strip()}")
        report = json.loads(output.read())
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "report": report}


def measure_tracemalloc(folder: Path) -> dict:
    import tracemalloc

    sys.path.insert(0, str(PROJECT_DIR))
    from wave_sandbox.evidence import EvidenceRequest, collect_evidence

    tracemalloc.start()
    started = time.perf_counter()
    collect_evidence(EvidenceRequest(folder / "repo", [str(folder / "app.log")], SYMPTOM))
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"seconds_under_tracemalloc": round(seconds, 2), "python_heap_peak_mb": round(peak / 1024**2, 1)}


def culprit_commit(folder: Path) -> str:
    return subprocess.run(["git", "-C", str(folder / "repo"), "log", "--format=%H", "--grep=Skip the discount divisor", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark wave-sandbox evidence (50,000 commits, 1 GB log).")
    parser.add_argument("--data", type=Path, help="keep the generated repository and log here, and reuse them")
    parser.add_argument("--commits", type=int, default=50_000)
    parser.add_argument("--log-gb", type=float, default=1.0)
    parser.add_argument("--quick", action="store_true", help="5,000 commits and a 0.1 GB log")
    parser.add_argument("--tracemalloc", action="store_true", help="also run in-process under tracemalloc")
    parser.add_argument("--results", type=Path, default=RESULTS_FILE)
    arguments = parser.parse_args(argv)
    if arguments.quick:
        arguments.commits, arguments.log_gb = 5_000, 0.1
    scratch = None if arguments.data else tempfile.mkdtemp(prefix="wave-bench-evidence-")
    folder = arguments.data or Path(scratch)
    try:
        built = prepare_data(folder, arguments.commits, arguments.log_gb)
        log_bytes = (folder / "app.log").stat().st_size
        measured = measure_command(folder)
        extra = measure_tracemalloc(folder) if arguments.tracemalloc else {}
        report = measured.pop("report")
        culprit = culprit_commit(folder)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    top = report["suspects"][0] if report["suspects"] else {}
    found = {"onset": report["onset"]["start"], "window_commits": report["window"]["commits"],
             "culprit_rank_1": top.get("commit") == culprit, "confident": report["confident"]}
    verdicts = {"time": "PASS" if measured["seconds"] < TARGET_SECONDS else "MISS",
                "memory": "PASS" if measured["peak_rss_mb"] < TARGET_MEGABYTES else "MISS"}
    results = {"commits": arguments.commits, "log_bytes": log_bytes, **built, **measured, **extra, **found, **verdicts,
               "host_cpus": os.cpu_count(), "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    print(f"wave-sandbox evidence on {arguments.commits:,} commits and a {log_bytes / 1024**3:.2f} GB log:")
    print(f"  time   {measured['seconds']:6.1f} s   (target < {TARGET_SECONDS:.0f} s)   {verdicts['time']}")
    print(f"  memory {measured['peak_rss_mb']:6.0f} MB  (target < {TARGET_MEGABYTES:.0f} MB)  {verdicts['memory']}")
    if extra:
        print(f"  python heap peak {extra['python_heap_peak_mb']} MB (tracemalloc, {extra['seconds_under_tracemalloc']} s under it)")
    print(f"  onset {found['onset']}, {found['window_commits']} commits in the window, culprit ranked first: {found['culprit_rank_1']}, confident: {found['confident']}")
    arguments.results.parent.mkdir(parents=True, exist_ok=True)
    arguments.results.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
