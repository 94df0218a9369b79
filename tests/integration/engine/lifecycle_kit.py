"""A three-step pipeline whose last step naps, started as a real `wave-sandbox run` process, for the
tests of a run's life: kill -9, cancel, status, the orphan rule and resume."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import yaml

from tests.integration.conftest import CLI, git, run_cli
from tests.integration.scripted_runs import bash, edit_file, say, write_file

LIFECYCLE_PIPELINE = """\
kind: WavePipeline
metadata:
  name: {name}
steps:
  - id: plan
    persona: navigator
    workspace:
      mount:
        - source: ./
          target: /src
          mode: readonly
    exec:
      source: "Plan"
    output_artifacts:
      - name: plan
        path: output/plan.md
  - id: fix
    persona: craftsman
    dependencies: [plan]
    workspace:
      mount:
        - source: ./
          target: /src
          mode: readwrite
    exec:
      source: "Fix"
    output_artifacts:
      - name: fix
        path: output/fix.md
  - id: nap
    persona: summarizer
    dependencies: [fix]
    exec:
      source: "Report"
    output_artifacts:
      - name: report
        path: output/report.md
"""


def lifecycle_script(nap_command: str | None = None, fix_command: str | None = None) -> dict:
    """plan and fix finish at once (fix edits app.py); nap runs `nap_command` before writing its report."""
    fix_turns = [[edit_file("/src/app.py", "return 500", "return 200"), write_file("output/fix.md", "# fix\n")]]
    if fix_command:
        fix_turns.append([bash(fix_command)])
    nap_turns = [[bash(nap_command)]] if nap_command else []
    return {"steps": {
        "plan": [[write_file("output/plan.md", "# plan\n")], say("Planned")],
        "fix": [*fix_turns, say("Fixed")],
        "nap": [*nap_turns, [write_file("output/report.md", "# report\n")], say("Reported")],
    }}  # fmt: skip


def service_repository(root: Path) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "app.py").write_text("def handler():\n    return 500\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root


class Scenario:
    """One repository, the pipeline, and scripts for it; runs started in the background or awaited."""

    def __init__(self, base: Path, name: str):
        self.base = base
        self.repo = service_repository(base / "service")
        self.pipeline = base / "pipeline.yaml"
        self.pipeline.write_text(LIFECYCLE_PIPELINE.format(name=name))
        self.scripts = 0

    def script(self, **turns) -> Path:
        self.scripts += 1
        path = self.base / f"script-{self.scripts}.yaml"
        path.write_text(yaml.safe_dump(lifecycle_script(**turns), sort_keys=False))
        return path

    def start(self, script: Path, *options: str) -> subprocess.Popen:
        return subprocess.Popen(
            [str(CLI), "run", str(self.pipeline), "--repo", str(self.repo), "--model", f"scripted:{script}",
             "--output", str(self.base / "out"), *options],
            cwd=self.base, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip

    def cli(self, *arguments: str, timeout: float = 240) -> subprocess.CompletedProcess:
        return run_cli(*arguments, cwd=self.repo, timeout=timeout)

    @property
    def runs_folder(self) -> Path:
        return self.repo / ".wave" / "runs"

    def only_run_id(self, timeout_s: float = 60) -> str:
        wait_for(lambda: self.runs_folder.is_dir() and any(self.runs_folder.glob("*/run.json")), timeout_s, "a run")
        [record] = list(self.runs_folder.glob("*/run.json"))
        return record.parent.name

    def record(self, run_id: str) -> dict:
        return json.loads((self.runs_folder / run_id / "run.json").read_text())

    def step_status(self, run_id: str, step_id: str) -> str | None:
        try:
            return self.record(run_id)["steps"].get(step_id, {}).get("status")
        except (OSError, ValueError):
            return None


def wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def containers_of(docker, run_id: str, running_only: bool = False) -> list[dict]:
    return docker.api.containers(all=not running_only, filters={"label": f"wave-sandbox.run={run_id}"})


def wait_until_step_sleeps(docker, scenario: Scenario, run_id: str, step_id: str, marker: str) -> None:
    """Until the step's container runs the tool call holding `marker` (its agent is in `sleep`)."""
    def sleeping() -> bool:
        for container in containers_of(docker, run_id, running_only=True):
            if container["Labels"].get("wave-sandbox.step") != step_id:
                continue
            probe = docker.containers.get(container["Id"]).exec_run(["pgrep", "-f", "--", marker])
            if probe.exit_code == 0:
                return True
        return False

    wait_for(lambda: scenario.step_status(run_id, step_id) == "running", 120, f"step {step_id} to start")
    wait_for(sleeping, 90, f"step {step_id}'s tool call")


def seconds_until_stopped(docker, container_id: str, timeout_s: float) -> float:
    """Poll the daemon until the container no longer runs (or is gone); how long that took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            if not docker.api.inspect_container(container_id)["State"]["Running"]:
                break
        except Exception:  # noqa: BLE001 - removed: not running either
            break
        time.sleep(0.1)
    return time.monotonic() - started


def finish(process: subprocess.Popen, timeout_s: float = 120) -> tuple[str, str]:
    try:
        return process.communicate(timeout=timeout_s)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 9)
            process.communicate()
