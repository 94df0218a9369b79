"""The pipelines, scripted-model files and repositories the benchmark runs, written into a scratch folder.

Everything is generated, so the bench leaves nothing behind in the project: each scenario gets its
pipeline YAML and its script YAML, the instant and delayed scenarios share a tiny git repository,
and the incident-response scenario gets the demo repository from examples/make_demo_repo.sh.
"""

from __future__ import annotations

import compileall
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

import wave_sandbox  # only its location: the copy the measured CLI imports (this checkout, or PYTHONPATH's)

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEMO_REPO_SCRIPT = PROJECT_DIR / "examples" / "make_demo_repo.sh"
DEMO_SCRIPT = PROJECT_DIR / "examples" / "incident-response.script.yaml"
DEMO_INPUT = "500 errors spiking on /api/orders endpoint since 14:30 UTC"
# Every generated step uses one persona, so the scenarios differ only in what item 7 varies.
BENCH_PERSONA = "navigator"
PARALLEL_STEP_COUNT = 6
DELAYED_TURN_S = 2


@dataclass(frozen=True)
class Scenario:
    """One `wave-sandbox run` invocation: what to run, against which repo, with which script."""

    pipeline: str
    """A pipeline file path, or a built-in pipeline name."""
    repo: Path
    script: Path
    input_text: str = ""
    max_parallel: int | None = None
    runtime: str | None = None
    """`--runtime`; None: the engine's default."""


@dataclass(frozen=True)
class BenchFixtures:
    instant_one_step: Scenario
    incident_response: Scenario
    delayed_one_step: Scenario
    delayed_six_steps: Scenario


def prepare_fixtures(scratch: Path) -> BenchFixtures:
    """Write every scenario's files under `scratch`, build both repositories, compile the package's bytecode."""
    compile_package_bytecode()
    service_repo = make_tiny_git_repository(scratch / "service")
    demo_repo = make_demo_repository(scratch / "orders-service")
    return BenchFixtures(
        instant_one_step=write_instant_scenario(scratch / "instant", service_repo),
        incident_response=Scenario("incident-response", demo_repo, DEMO_SCRIPT, DEMO_INPUT),
        delayed_one_step=write_delayed_scenario(scratch / "delayed-1", service_repo, step_count=1),
        delayed_six_steps=write_delayed_scenario(
            scratch / "delayed-6", service_repo, PARALLEL_STEP_COUNT, max_parallel=PARALLEL_STEP_COUNT
        ),
    )


def compile_package_bytecode() -> None:
    """Write wave_sandbox's .pyc files before anything is timed, as `pip install` of a wheel does (and as the
    agent image does for its own code): with PYTHONDONTWRITEBYTECODE set, an editable checkout would
    otherwise compile every module from source on each run, a cost (~0.3 s here) no installed copy pays."""
    compileall.compile_dir(Path(wave_sandbox.__file__).parent, quiet=1)


def pipeline_document(name: str, step_ids: list[str], prompt: str) -> dict:
    """A pipeline of independent steps without mounts or artifacts: only the sandbox's fixed costs."""
    steps = [{"id": step_id, "persona": BENCH_PERSONA, "exec": {"source": prompt}} for step_id in step_ids]
    return {"kind": "WavePipeline", "metadata": {"name": name}, "steps": steps}


def bash_true_turn() -> dict:
    return {
        "delay_s": DELAYED_TURN_S,
        "content": [{"type": "tool_use", "name": "bash", "input": {"command": "true"}}],
    }


def delayed_turns() -> list:
    """Three requests of DELAYED_TURN_S each: a turn without a tool call would end the step at once."""
    final_turn = {"delay_s": DELAYED_TURN_S, "content": [{"type": "text", "text": "Delayed step done"}]}
    return [bash_true_turn(), bash_true_turn(), final_turn]


def write_instant_scenario(folder: Path, repo: Path) -> Scenario:
    pipeline = pipeline_document("bench-instant", ["answer"], "Answer at once")
    script = {"steps": {"answer": [[{"type": "text", "text": "Answered at once"}]]}}
    pipeline_path, script_path = write_pipeline_and_script(folder, pipeline, script)
    return Scenario(pipeline_path, repo, script_path)


def write_delayed_scenario(folder: Path, repo: Path, step_count: int, max_parallel: int | None = None) -> Scenario:
    step_ids = [f"delayed-{number}" for number in range(1, step_count + 1)]
    pipeline = pipeline_document(f"bench-delayed-{step_count}", step_ids, "Take three slow turns")
    script = {"steps": {step_id: delayed_turns() for step_id in step_ids}}
    pipeline_path, script_path = write_pipeline_and_script(folder, pipeline, script)
    return Scenario(pipeline_path, repo, script_path, max_parallel=max_parallel)


def write_pipeline_and_script(folder: Path, pipeline: dict, script: dict) -> tuple[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pipeline.yaml").write_text(yaml.safe_dump(pipeline, sort_keys=False))
    (folder / "script.yaml").write_text(yaml.safe_dump(script, sort_keys=False))
    return str(folder / "pipeline.yaml"), folder / "script.yaml"


def make_tiny_git_repository(root: Path) -> Path:
    """A one-commit checkout: where a user would type `wave-sandbox run`."""
    root.mkdir(parents=True)
    (root / "README.md").write_text("# benchmark service\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Initial commit")
    return root


def make_demo_repository(target: Path) -> Path:
    subprocess.run([str(DEMO_REPO_SCRIPT), str(target)], check=True, capture_output=True, text=True)
    return target


def git(repo: Path, *arguments: str) -> None:
    """Git with a fixed identity and without the user's config, so the bench runs on any machine."""
    environment = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
    }  # fmt: skip
    subprocess.run(["git", "-C", str(repo), *arguments], check=True, capture_output=True, env=environment)
