"""Runs of the real engine (launch, runner, step execution, records) on the fake backend.

The agent is the real one, started as a host process by FakeBackend; the model is the scripted one,
served by the real gateway on 127.0.0.1. No Docker: each run takes a few seconds.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.integration.scripted_runs import one_commit_repository
from wave_sandbox.engine.events import RunEvent
from wave_sandbox.engine.launch import launch_resume, launch_run
from wave_sandbox.engine.runner import RunOptions, RunResult
from wave_sandbox.sandbox.fake import FakeBackend


@dataclass
class FakeRun:
    """One run (or resume) on the fake: what it returned or raised, its events and notices."""

    repo: Path
    backend: FakeBackend
    result: RunResult | None = None
    error: BaseException | None = None
    events: list[RunEvent] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def states(self, step_id: str) -> list[str]:
        return [event.state for event in self.events if event.step_id == step_id]

    def started_steps(self) -> list[str]:
        return [event.step_id for event in self.events if event.state == "started"]

    def message(self, step_id: str) -> str:
        return next(e.message for e in reversed(self.events) if e.step_id == step_id and e.message)

    def record(self) -> dict:
        return json.loads((self.record_folder() / "run.json").read_text())

    def record_folder(self) -> Path:
        [folder] = (path for path in (self.repo / ".wave" / "runs").iterdir() if path.is_dir())
        return folder


class FakeProject:
    """A git repository, a pipeline and its script in a temp folder, and a fake backend's base folder."""

    def __init__(self, tmp_path: Path, pipeline_text: str, script: dict):
        self.repo = one_commit_repository(tmp_path / "repo")
        self.definitions = tmp_path / "definitions"
        self.definitions.mkdir()
        self.pipeline = self.definitions / "pipeline.yaml"
        self.pipeline.write_text(pipeline_text)
        self.script = self.definitions / "script.yaml"
        self.write_script(script)
        self.fake_base = tmp_path / "fake"
        self.fake_base.mkdir()

    def write_script(self, script: dict) -> None:
        self.script.write_text(yaml.safe_dump(script, sort_keys=False))

    def backend(self) -> FakeBackend:
        return FakeBackend(base_dir=self.fake_base)

    def options(self, **overrides) -> RunOptions:
        values = dict(
            input_text="500s on /api/orders", output_dir=self.repo / "output", output_display="output",
            model_spec=f"scripted:{self.script}", max_parallel=2, step_timeout_s=60,
        )  # fmt: skip
        values.update(overrides)
        return RunOptions(**values)

    def run(self, **option_overrides) -> FakeRun:
        backend = self.backend()
        run = FakeRun(self.repo, backend)
        options = self.options(**option_overrides)
        _capture(run, lambda: launch_run(str(self.pipeline), self.repo, options, backend, [run.events.append],
                                         run.notices.append))  # fmt: skip
        return run

    def resume(self, run_id: str) -> FakeRun:
        backend = self.backend()
        run = FakeRun(self.repo, backend)
        _capture(run, lambda: launch_resume(run_id, self.repo, None, False, backend, [run.events.append],
                                            run.notices.append))  # fmt: skip
        return run

    def sandbox_folders(self) -> list[Path]:
        return sorted(self.fake_base.glob("wave-sandbox-fake-*"))


def _capture(run: FakeRun, action) -> None:
    try:
        run.result = action()
    except Exception as error:  # the test asserts on what was raised
        run.error = error


def interrupt_when(condition, timeout_s: float = 60.0) -> threading.Event:
    """Send this process SIGINT (Ctrl-C) once ``condition()`` holds; set the returned event to give up."""
    stop = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + timeout_s
        while not stop.is_set() and time.monotonic() < deadline:
            if condition():
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()
    return stop


def process_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in _process_state(pid)


def _process_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return ""
