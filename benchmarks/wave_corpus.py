"""Every pipeline of a Wave checkout through `wave-sandbox validate`, and with `--run` through `run --model mock`.

WAVE_GIT_DIR is a Wave repository (a checkout, or a bare git directory such as the search tool's mirror).
Its HEAD is cloned into a temporary folder first, so the runs' records and review branches never touch
it. Both pipeline folders are read: `.agents/pipelines/` and `internal/defaults/embedfs/pipelines/`
(the same name in both is counted twice: they are two files). Each pipeline is validated by path against
the clone; with `--run`, each valid one runs with `--model mock` (the input "mock corpus run"), and its
exit code is classified: 0 ran, 1 failed (the first failing step's message is shown), anything else is
an error of wave-sandbox itself (2, a traceback on stderr, a signal).

    .venv/bin/python benchmarks/wave_corpus.py /tmp/wave
    .venv/bin/python benchmarks/wave_corpus.py /tmp/wave --run --timeout 900
    .venv/bin/python benchmarks/wave_corpus.py /tmp/wave --only impl-issue,ops-pr-respond --run
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
PIPELINE_FOLDERS = (".agents/pipelines", "internal/defaults/embedfs/pipelines")
MOCK_INPUT = "mock corpus run"
IDENTITY = {"GIT_AUTHOR_NAME": "corpus", "GIT_AUTHOR_EMAIL": "corpus@localhost",
            "GIT_COMMITTER_NAME": "corpus", "GIT_COMMITTER_EMAIL": "corpus@localhost"}


@dataclass
class Outcome:
    pipeline: str
    folder: str
    status: str
    """valid, refused, ran, failed or error."""
    detail: str = ""
    seconds: float = 0.0
    valid: bool = False


def wave_sandbox_command() -> list[str]:
    installed = PROJECT_DIR / ".venv" / "bin" / "wave-sandbox"
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "wave_sandbox.cli"]


def clone_checkout(source: Path, into: Path, origin: str) -> Path:
    """A clone of the checkout's HEAD (works for a bare git directory too), whose `origin` is the URL a
    Wave user's checkout has (Wave's `forge.*` variables, and so persona names such as
    `{{ forge.type }}-analyst`, come from it; the URL is only read, never fetched)."""
    target = into / "wave"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(source), str(target)], check=True)
    subprocess.run(["git", "-C", str(target), "remote", "set-url", "origin", origin], check=True)
    return target


def pipeline_files(checkout: Path, only: set[str] | None) -> list[Path]:
    files = []
    for folder in PIPELINE_FOLDERS:
        for path in sorted((checkout / folder).glob("*.yaml")):
            if only is None or path.stem in only:
                files.append(path)
    return files


def validate(checkout: Path, path: Path) -> Outcome:
    folder = str(path.parent.relative_to(checkout))
    result = subprocess.run(wave_sandbox_command() + ["validate", str(path), "--repo", str(checkout)],
                            capture_output=True, text=True, env=_environment())
    if result.returncode == 0:
        return Outcome(path.stem, folder, "valid", valid=True)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if result.returncode != 2 or "Traceback" in result.stderr:
        return Outcome(path.stem, folder, "error", f"exit {result.returncode}: {lines[-1] if lines else ''}")
    return Outcome(path.stem, folder, "refused", first_reason(lines))


def first_reason(lines: list[str]) -> str:
    """The message of the first problem line (`FILE:LINE: place: message` -> `place: message`)."""
    if not lines:
        return "(no message)"
    parts = lines[0].split(": ", 1)
    return parts[1] if len(parts) == 2 else lines[0]


def run_mock(checkout: Path, path: Path, outcome: Outcome, timeout_s: int) -> None:
    started = time.monotonic()
    command = wave_sandbox_command() + ["run", str(path), MOCK_INPUT, "--repo", str(checkout), "--model", "mock",
                                        "--json", "--output", str(checkout.parent / "output" / path.stem)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, env=_environment())
    except subprocess.TimeoutExpired:
        outcome.status, outcome.detail = "error", f"no end within {timeout_s}s"
        return
    outcome.seconds = time.monotonic() - started
    last = _last_event(result.stdout)
    if result.returncode == 0:
        outcome.status = "ran"
    elif result.returncode == 1 and "Traceback" not in result.stderr:
        outcome.status, outcome.detail = "failed", (last or {}).get("message", "") or _tail(result.stderr)
    else:
        outcome.status, outcome.detail = "error", f"exit {result.returncode}: {_tail(result.stderr)}"


def _last_event(stdout: str) -> dict | None:
    for line in reversed(stdout.splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return None


def _tail(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _environment() -> dict[str, str]:
    environment = dict(os.environ, **IDENTITY)
    environment.pop("ANTHROPIC_API_KEY", None)  # mock needs no key; make sure none is used
    return environment


def report(outcomes: list[Outcome], ran: bool) -> None:
    for outcome in outcomes:
        line = f"{outcome.folder:<40} {outcome.pipeline:<32} {outcome.status:<8}"
        if outcome.seconds:
            line += f" {outcome.seconds:5.0f}s"
        print(line + (f"  {outcome.detail}" if outcome.detail else ""))
    counts = collections.Counter(o.status for o in outcomes)
    total = len(outcomes)
    validated = sum(o.valid for o in outcomes)
    invalid_errors = sum(o.status == "error" and not o.valid for o in outcomes)
    print(f"\n{total} pipelines: {validated} valid, {counts['refused']} refused, {invalid_errors} validate errors", end="")
    if ran:
        run_errors = counts["error"] - invalid_errors
        print(f"; run with --model mock: {counts['ran']} ran, {counts['failed']} failed, {run_errors} errors")
    else:
        print()
    reasons = collections.Counter(_reason_group(o.detail) for o in outcomes if o.status == "refused")
    if reasons:
        print("refusals by first reason:")
        for reason, count in reasons.most_common():
            print(f"  {count:3}  {reason}")


def _reason_group(detail: str) -> str:
    """The refusal without its step place (`steps[3] (x): 'iterate' is ...` -> `'iterate' is ...`)."""
    return detail.split("): ", 1)[1] if detail.startswith("steps[") and "): " in detail else detail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wave_git_dir", type=Path)
    parser.add_argument("--run", action="store_true", help="run each valid pipeline with --model mock")
    parser.add_argument("--only", help="comma-separated pipeline names")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per mock run")
    parser.add_argument("--keep-temp", action="store_true")
    parser.add_argument("--origin", default="https://github.com/re-cinq/wave.git",
                        help="the clone's origin URL, as a Wave user's checkout has it (default: Wave's GitHub URL)")
    arguments = parser.parse_args()
    only = set(arguments.only.split(",")) if arguments.only else None
    temp = Path(tempfile.mkdtemp(prefix="wave-corpus-"))
    try:
        checkout = clone_checkout(arguments.wave_git_dir.resolve(), temp, arguments.origin)
        head = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        print(f"Wave checkout {arguments.wave_git_dir} at {head}")
        outcomes = [validate(checkout, path) for path in pipeline_files(checkout, only)]
        if arguments.run:
            for outcome, path in zip(outcomes, pipeline_files(checkout, only)):
                if outcome.status == "valid":
                    run_mock(checkout, path, outcome, arguments.timeout)
                    print(f"  {outcome.pipeline}: {outcome.status} {outcome.detail}", file=sys.stderr, flush=True)
        report(outcomes, arguments.run)
    finally:
        if arguments.keep_temp:
            print(f"kept {temp}", file=sys.stderr)
        else:
            shutil.rmtree(temp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
