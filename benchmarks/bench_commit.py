"""How the host commit of a read-write step scales: 200,000 new small files (issue 9, item 6).

Two measurements, each in a temporary folder removed afterwards:
- commit: the host side alone, in a child process: a real repository, its clone, N files written into
  the clone, then `RunBranch.commit_step` (tree walk, fast-import, fetch into the repository); the
  child reports the commit's wall time and its own peak RSS (`ru_maxrss`).
- run: a real `wave-sandbox run` whose scripted craftsman writes the N files inside its container;
  the wall time of the whole run and the peak RSS of the largest process of it (wave-sandbox or one of
  its git children, `RUSAGE_CHILDREN`).

    .venv/bin/python benchmarks/bench_commit.py                 # both, 200,000 files
    .venv/bin/python benchmarks/bench_commit.py --files 50000 --only commit
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))
IDENTITY = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@localhost",
            "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@localhost"}
PIPELINE = """\
kind: WavePipeline
metadata:
  name: many-files
steps:
  - id: fix
    persona: craftsman
    workspace:
      mount:
        - source: ./
          target: /src
          mode: readwrite
    exec:
      source: "Generate the fixtures"
"""


def git(repo: Path, *arguments: str) -> None:
    subprocess.run(["git", "-C", str(repo), *arguments], check=True, capture_output=True,
                   env={**os.environ, **IDENTITY})


def make_repository(root: Path) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "app.py").write_text("def handler():\n    return 500\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root


def generator_source(count: int, root: str) -> str:
    return (f"import os\nfor i in range({count}):\n    d = '{root}/gen/%04d' % (i // 1000)\n"
            "    os.makedirs(d, exist_ok=True)\n    open(d + '/f%06d.txt' % i, 'w').write('file %d\\n' % i)\n")


def measure_commit_in_this_process(count: int, scratch: Path) -> dict:
    from wave_sandbox.workspace.branch import RunBranch
    from wave_sandbox.workspace.clone import create_clone

    repo = make_repository(scratch / "repo")
    clone = create_clone(repo, scratch / "records" / "clone")
    exec(generator_source(count, str(clone.path)))
    started = time.monotonic()
    result = RunBranch(repo, clone, "many-files", "bench").commit_step("fix", "craftsman", "Generated")
    seconds = time.monotonic() - started
    return {"files": len(result.changed_paths), "refusals": len(result.refusals), "seconds": round(seconds, 1),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}


def measure_commit(count: int, scratch: Path) -> dict:
    """In a child, so that its peak RSS is the commit's own."""
    completed = subprocess.run([sys.executable, __file__, "--child-commit", str(count), str(scratch)],
                               capture_output=True, text=True, check=True)
    return json.loads(completed.stdout)


def measure_run(count: int, scratch: Path) -> dict:
    repo = make_repository(scratch / "service")
    command = f"python3 - <<'EOF'\n{generator_source(count, '/src')}EOF"
    script = {"steps": {"fix": [[{"type": "tool_use", "name": "bash", "input": {"command": command,
                                                                                   "timeout_s": 600}}],
                                [{"type": "text", "text": "Generated the fixtures"}]]}}
    (scratch / "pipeline.yaml").write_text(PIPELINE)
    (scratch / "script.yaml").write_text(yaml.safe_dump(script))
    cli = Path(sys.executable).with_name("wave-sandbox")
    started = time.monotonic()
    completed = subprocess.run(
        [str(cli), "run", "pipeline.yaml", "--repo", str(repo), "--model", "scripted:script.yaml",
         "--output", "out", "--step-timeout", "1200"], cwd=scratch, capture_output=True, text=True)
    seconds = time.monotonic() - started
    return {"exit": completed.returncode, "seconds": round(seconds, 1), "last_line": completed.stdout.strip()[-120:],
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
            "stderr": completed.stderr.strip()[-400:] if completed.returncode else ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200_000)
    parser.add_argument("--only", choices=["commit", "run"])
    parser.add_argument("--child-commit", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child_commit:
        print(json.dumps(measure_commit_in_this_process(int(options.child_commit[0]), Path(options.child_commit[1]))))
        return
    results = {}
    for name, measure in (("commit", measure_commit), ("run", measure_run)):
        if options.only in (None, name):
            with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as scratch:
                results[name] = measure(options.files, Path(scratch))
            print(f"{name}: {json.dumps(results[name])}", flush=True)


if __name__ == "__main__":
    main()
