"""The soak's short pipelines and their scripted-model files, every content known from the run's number.

Three shapes: `soak-serial` (a read-only step, then one fed its artifact), `soak-parallel` (three
independent steps, then one joining them; run with --max-parallel 2) and `soak-readwrite` (two
read-write steps that each add a file on the run's branch, then a read-only report). Each step first
sleeps a seeded while in its container, so that signals land before, during and after steps. What every
artifact and every branch file must hold follows from the run's number alone (it is the run's input),
so the checks need nothing but the run record.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import yaml

SHAPES = ("soak-serial", "soak-parallel", "soak-readwrite")
SIGNAL_NAMES = ("SIGKILL", "SIGINT", "SIGTERM")
INPUT_PREFIX = "soak run "

SERIAL = """\
kind: WavePipeline
metadata:
  name: soak-serial
steps:
  - id: look
    persona: navigator
    workspace:
      mount:
        - {source: ./, target: /src, mode: readonly}
    exec: {source: "Look at {{ input }}"}
    output_artifacts:
      - {name: seen, path: output/seen.md}
  - id: think
    persona: philosopher
    dependencies: [look]
    memory:
      inject_artifacts:
        - {step: look, artifact: seen, as: seen}
    exec: {source: "Think about {{ input }}"}
    output_artifacts:
      - {name: thought, path: output/thought.json, type: json}
"""

PARALLEL = """\
kind: WavePipeline
metadata:
  name: soak-parallel
steps:
  - {id: left, persona: summarizer, exec: {source: "left"}, output_artifacts: [{name: left, path: output/left.md}]}
  - {id: middle, persona: summarizer, exec: {source: "middle"}, output_artifacts: [{name: middle, path: output/middle.md}]}
  - {id: right, persona: summarizer, exec: {source: "right"}, output_artifacts: [{name: right, path: output/right.md}]}
  - id: join
    persona: summarizer
    dependencies: [left, middle, right]
    memory:
      inject_artifacts:
        - {step: left, artifact: left, as: left}
        - {step: middle, artifact: middle, as: middle}
        - {step: right, artifact: right, as: right}
    exec: {source: "join"}
    output_artifacts:
      - {name: joined, path: output/joined.md}
"""

READWRITE = """\
kind: WavePipeline
metadata:
  name: soak-readwrite
steps:
  - id: fix
    persona: craftsman
    workspace:
      mount:
        - {source: ./, target: /src, mode: readwrite}
    exec: {source: "Fix {{ input }}"}
    output_artifacts:
      - {name: fix, path: output/fix.md}
  - id: polish
    persona: craftsman
    dependencies: [fix]
    workspace:
      mount:
        - {source: ./, target: /src, mode: readwrite}
    exec: {source: "Polish {{ input }}"}
    output_artifacts:
      - {name: polish, path: output/polish.md}
  - id: report
    persona: summarizer
    dependencies: [polish]
    memory:
      inject_artifacts:
        - {step: polish, artifact: polish, as: polish}
    exec: {source: "Report"}
    output_artifacts:
      - {name: report, path: output/report.md}
"""

PIPELINE_TEXT = {"soak-serial": SERIAL, "soak-parallel": PARALLEL, "soak-readwrite": READWRITE}
# step -> (artifact file name, artifact path in /workspace)
ARTIFACTS = {
    "soak-serial": {"look": "seen.md", "think": "thought.json"},
    "soak-parallel": {"left": "left.md", "middle": "middle.md", "right": "right.md", "join": "joined.md"},
    "soak-readwrite": {"fix": "fix.md", "polish": "polish.md", "report": "report.md"},
}
READWRITE_STEPS = ("fix", "polish")


@dataclass(frozen=True)
class SoakRun:
    """One planned run: its number, shape, step sleeps and the signal it gets (None: left alone)."""

    number: int
    shape: str
    sleeps: dict[str, float]
    signal_name: str | None
    signal_after_s: float

    @property
    def input_text(self) -> str:
        return f"{INPUT_PREFIX}{self.number}"


def plan_runs(count: int, rng: random.Random, kill_share: float) -> list[SoakRun]:
    """Seeded runs; the first three (of more than three) get SIGKILL, SIGINT and SIGTERM early in their
    life, so that even a short soak sends each signal to a live run."""
    runs = []
    for number in range(count):
        shape = SHAPES[number % len(SHAPES)]
        sleeps = {step: round(rng.uniform(0.0, 2.5), 2) for step in ARTIFACTS[shape]}
        signal_name = rng.choice(SIGNAL_NAMES) if rng.random() < kill_share else None
        moment = round(rng.uniform(0.3, 12.0), 2)
        if count > len(SIGNAL_NAMES) and number < len(SIGNAL_NAMES):
            signal_name, moment = SIGNAL_NAMES[number], round(rng.uniform(1.0, 3.0), 2)
        runs.append(SoakRun(number, shape, sleeps, signal_name, moment))
    return runs


def expected_artifact(number: int, step_id: str, file_name: str) -> bytes:
    """What the step's artifact holds, byte for byte."""
    if file_name.endswith(".json"):
        return json.dumps({"run": number, "step": step_id}).encode()
    return f"soak {number} {step_id}\n".encode()


def branch_file(number: int, step_id: str) -> tuple[str, bytes]:
    """The file a read-write step adds on the run's branch, and its content."""
    return f"soak/{step_id}-{number}.txt", f"{step_id} of soak run {number}\n".encode()


def number_of(input_text: str) -> int | None:
    if not input_text.startswith(INPUT_PREFIX):
        return None
    tail = input_text[len(INPUT_PREFIX):].strip()
    return int(tail) if tail.isdigit() else None


def write_run_files(run: SoakRun, folder: Path) -> tuple[Path, Path]:
    """The pipeline and its script for one run, in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    pipeline = folder / f"{run.shape}.yaml"
    if not pipeline.exists():
        pipeline.write_text(PIPELINE_TEXT[run.shape])
    script = folder / f"script-{run.number}.yaml"
    script.write_text(yaml.safe_dump({"steps": _script_steps(run)}, sort_keys=False))
    return pipeline, script


def _script_steps(run: SoakRun) -> dict:
    steps = {}
    for step_id, file_name in ARTIFACTS[run.shape].items():
        writes = [_write(f"output/{file_name}", expected_artifact(run.number, step_id, file_name).decode())]
        if step_id in READWRITE_STEPS:
            path, content = branch_file(run.number, step_id)
            writes.append(_write(f"/src/{path}", content.decode()))
        steps[step_id] = [
            [_bash(f"sleep {run.sleeps[step_id]}")],
            writes,
            [{"type": "text", "text": f"{step_id} done"}],
        ]
    return steps


def _bash(command: str) -> dict:
    return {"type": "tool_use", "name": "bash", "input": {"command": command}}


def _write(path: str, content: str) -> dict:
    return {"type": "tool_use", "name": "write_file", "input": {"path": path, "content": content}}
