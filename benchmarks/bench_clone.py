"""A one-step read-write run on a large repository against `git worktree add` of it (issue 10, item 4).

A repository of N files (default 100,000, about 18 MB packed) is generated in a temporary folder. Each
round times, interleaved so that load from elsewhere hits both alike:
- worktree: `git worktree add --detach` of HEAD into a fresh folder (the cheapest way a tool gets
  a second checkout of the same repository), then its removal is not timed;
- run: `wave-sandbox run` of a one-step pipeline whose scripted craftsman appends a line to one file
  of the read-write mount and ends: clone, container, commit, review branch, clean-up.
- worktree, parallel: the same with git's parallel checkout (`-c checkout.workers=0`), which the run's
  clone uses: not the target's baseline (git's default is one worker), printed for reference, so
  that the run's own overhead beside the checkout is visible too.
The ratio run/worktree is printed (target at most 1.2) with both medians. Before each measurement the
bench waits for the previous one's deletions (the run's detached clone removal, the worktree's) to end
and reach the disk (`sync`), so that one measurement's I/O does not land on the next.

    .venv/bin/python benchmarks/bench_clone.py                     # 100,000 files, 2 rounds
    .venv/bin/python benchmarks/bench_clone.py --files 20000 --repeat 1
    .venv/bin/python benchmarks/bench_clone.py --profile out.svg   # py-spy record of one run
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from wave_sandbox.workspace.clone import PARALLEL_CHECKOUT

PROJECT_DIR = Path(__file__).resolve().parents[1]
IDENTITY = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
            "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost"}
TARGET_RATIO = 1.2
WORDS = ("alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega orders service handler "
         "request response error retry timeout cache index commit branch").split()
PIPELINE = """\
kind: WavePipeline
metadata:
  name: large-repo
steps:
  - id: fix
    persona: craftsman
    workspace:
      mount:
        - source: ./
          target: /src
          mode: readwrite
    exec:
      source: "Fix the handler"
"""


def git(repo: Path, *arguments: str, stdin: bytes | None = None) -> None:
    completed = subprocess.run(["git", "-C", str(repo), *arguments], capture_output=True, input=stdin,
                               env={**os.environ, **IDENTITY})
    if completed.returncode != 0:
        raise SystemExit(f"git {' '.join(arguments)} failed: {completed.stderr.decode(errors='replace')[-400:]}")


def fast_import_stream(count: int) -> bytes:
    """One commit of `count` small text files of pseudo-random words, in folders of 500."""
    generator = random.Random(10)
    pieces = []
    for index in range(count):
        words = generator.choices(WORDS, k=generator.randint(20, 60))
        content = (f"# {index}\n" + " ".join(words) + "\n").encode()
        pieces.append(b"M 100644 inline src/mod%04d/file%06d.py\ndata %d\n%s\n"
                      % (index // 500, index, len(content), content))
    message = b"large repository"
    header = (b"commit refs/heads/main\ncommitter bench <bench@localhost> 1700000000 +0000\n"
              b"data %d\n%s\n" % (len(message), message))
    return header + b"".join(pieces) + b"\ndone\n"


def make_large_repository(root: Path, count: int) -> Path:
    """A repository whose one commit holds `count` files, packed by fast-import, and checked out."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "fast-import", "--quiet", "--done", stdin=fast_import_stream(count))
    git(root, "reset", "-q", "--hard", "main")
    return root


def packed_megabytes(repo: Path) -> float:
    packs = (repo / ".git" / "objects" / "pack").glob("*.pack")
    return round(sum(pack.stat().st_size for pack in packs) / 1e6, 1)


def write_scenario(scratch: Path) -> tuple[Path, Path]:
    command = "echo '# reviewed' >> /src/src/mod0000/file000000.py"
    script = {"steps": {"fix": [[{"type": "tool_use", "name": "bash", "input": {"command": command}}],
                                [{"type": "text", "text": "Marked the handler reviewed"}]]}}
    pipeline, script_file = scratch / "pipeline.yaml", scratch / "script.yaml"
    pipeline.write_text(PIPELINE)
    script_file.write_text(yaml.safe_dump(script))
    return pipeline, script_file


def time_worktree(repo: Path, scratch: Path, round_number: int, parallel: bool = False) -> float:
    destination = scratch / f"worktree-{round_number}{'-parallel' if parallel else ''}"
    options = PARALLEL_CHECKOUT if parallel else ()  # the very options of the run's clone
    started = time.monotonic()
    git(repo, *options, "worktree", "add", "-q", "--detach", str(destination), "HEAD")
    seconds = time.monotonic() - started
    git(repo, "worktree", "remove", "--force", str(destination))
    return seconds


def settle(repo: Path, timeout_s: float = 600) -> None:
    """Let the last measurement's deletions finish (the run's detached clone removal, the worktree's
    removal) and reach the disk, so that they do not slow down the next measurement."""
    runs = repo / ".wave" / "runs"
    deadline = time.monotonic() + timeout_s
    while runs.is_dir() and any(runs.glob("*/clone.removing")) and time.monotonic() < deadline:
        time.sleep(0.5)
    os.sync()


def run_command(repo: Path, scratch: Path, round_number: int) -> list[str]:
    pipeline, script = write_scenario(scratch)
    cli = Path(sys.executable).with_name("wave-sandbox")
    return [str(cli), "run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script}",
            "--output", str(scratch / f"out-{round_number}")]


def time_run(repo: Path, scratch: Path, round_number: int, profile: Path | None = None) -> float:
    command = run_command(repo, scratch, round_number)
    if profile is not None:
        spy = Path(sys.executable).with_name("py-spy")
        command = [str(spy), "record", "--subprocesses", "--idle", "-r", "50", "-f",
                   "speedscope" if profile.suffix == ".json" else "flamegraph", "-o", str(profile), "--", *command]
    started = time.monotonic()
    completed = subprocess.run(command, cwd=scratch, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if completed.returncode != 0:
        raise SystemExit(f"the run failed ({completed.returncode}): {completed.stderr.strip()[-600:]}")
    return seconds


def measure(count: int, repeat: int, scratch: Path, profile: Path | None) -> dict:
    started = time.monotonic()
    repo = make_large_repository(scratch / "large", count)
    print(f"generated {count} files, {packed_megabytes(repo)} MB packed, in {time.monotonic() - started:.0f} s",
          flush=True)
    worktree, parallel, run = [], [], []
    for round_number in range(repeat):
        settle(repo)
        worktree.append(time_worktree(repo, scratch, round_number))
        settle(repo)
        run.append(time_run(repo, scratch, round_number))
        settle(repo)
        parallel.append(time_worktree(repo, scratch, round_number, parallel=True))
        print(f"round {round_number + 1}: worktree {worktree[-1]:.1f} s, run {run[-1]:.1f} s, "
              f"worktree with parallel checkout {parallel[-1]:.1f} s", flush=True)
    if profile is not None:
        settle(repo)
        time_run(repo, scratch, repeat, profile)
    ratio = statistics.median(run) / statistics.median(worktree)
    return {"files": count, "packed_mb": packed_megabytes(repo), "worktree_s": [round(s, 2) for s in worktree],
            "run_s": [round(s, 2) for s in run], "ratio": round(ratio, 2),
            "parallel_worktree_s": [round(s, 2) for s in parallel],
            "ratio_to_parallel": round(statistics.median(run) / statistics.median(parallel), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--profile", type=Path, help="py-spy record one more run into this file (.svg or .json)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-clone-") as scratch:
        result = measure(options.files, options.repeat, Path(scratch), options.profile)
        shutil.rmtree(Path(scratch) / "large", ignore_errors=True)
    verdict = "PASS" if result["ratio"] <= TARGET_RATIO else "MISS"
    print(f"read-write run / git worktree add ({result['files']} files): {result['ratio']:.2f} "
          f"(target <= {TARGET_RATIO}) {verdict}")
    print(f"read-write run / git worktree add with parallel checkout, for reference: {result['ratio_to_parallel']:.2f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
