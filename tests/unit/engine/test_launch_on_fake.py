"""launch_run / launch_resume on the fake backend: checks first (a mistake creates nothing), the
backend's reduced controls said once, crashed runs' leftovers swept, the run's lifecycle calls in order."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.integration.scripted_runs import say
from tests.unit.engine.fake_runs import FakeProject
from wave_sandbox.engine.launch import launch_resume, launch_run
from wave_sandbox.errors import ConfigurationError, RunNotFoundError
from wave_sandbox.sandbox.backend import ContainerSpec, this_process_owner
from wave_sandbox.sandbox.fake import FakeBackend

ONE_STEP = """\
kind: WavePipeline
metadata:
  name: one
steps:
  - id: only
    persona: summarizer
    exec:
      source: "Say done"
"""
READ_WRITE = """\
kind: WavePipeline
metadata:
  name: fixer
steps:
  - id: fix
    persona: craftsman
    workspace:
      mount:
        - source: ./
          target: /src
          mode: readwrite
    exec:
      source: "Fix it"
"""
NO_SUCH_PID = 4_194_304 + 17  # above Linux's largest pid_max


class RecordingBackend(FakeBackend):
    """The fake, noting each run-level call the engine makes."""

    def __init__(self, base_dir: Path):
        super().__init__(base_dir=base_dir)
        self.calls: list[str] = []

    def capabilities(self):
        self.calls.append("capabilities")
        return super().capabilities()

    def ensure_image(self, notify):
        self.calls.append("ensure_image")
        return super().ensure_image(notify)

    def clean_dead_runs(self, spared_run_ids=frozenset()):
        self.calls.append("clean_dead_runs")
        return super().clean_dead_runs(spared_run_ids)

    def prepare_run(self, run_id, owner):
        self.calls.append("prepare_run")
        return super().prepare_run(run_id, owner)

    def open_gateway(self, env, port):
        self.calls.append("open_gateway")
        super().open_gateway(env, port)

    def teardown_run(self, env, keep=False):
        self.calls.append("teardown_run")
        return super().teardown_run(env, keep)


def leave_a_crashed_runs_sandbox(base_dir: Path) -> None:
    """A sandbox folder whose owner process no longer exists, as a crashed run leaves it."""
    crashed = FakeBackend(base_dir=base_dir)
    crashed.prepare_run("crashed-run", f"{socket.gethostname()}:{NO_SUCH_PID}:1")
    crashed.create(ContainerSpec("crashed-run", "step", "img", None, "1:1", {}))


def test_the_lifecycle_runs_in_order_and_sweeps_what_crashed_runs_left(tmp_path):
    project = FakeProject(tmp_path, ONE_STEP, {"steps": {"only": [say("done")]}})
    leave_a_crashed_runs_sandbox(project.fake_base)
    assert len(project.sandbox_folders()) == 1
    backend = RecordingBackend(project.fake_base)
    events, notices = [], []
    result = launch_run(str(project.pipeline), project.repo, project.options(), backend, [events.append],
                        notices.append)  # fmt: skip
    assert result.status == "completed"
    # the run's environment is made in a thread while the engine is checked: those four in any order
    assert sorted(backend.calls[:4]) == ["capabilities", "clean_dead_runs", "ensure_image", "prepare_run"]
    assert backend.calls.index("capabilities") < backend.calls.index("ensure_image") < \
        backend.calls.index("clean_dead_runs")
    assert backend.calls[4:] == ["open_gateway", "teardown_run"]
    assert project.sandbox_folders() == [], "the crashed run's sandbox is gone, and the run's own"
    assert any("cleaned up after earlier crashed runs: removed 1 containers" in n for n in notices), notices
    assert any(n.startswith("warning: this engine cannot give every sandbox control: isolation") for n in notices)
    assert [event.state for event in events] == ["run_started", "started", "completed", "run_completed"]


def test_a_live_runs_sandbox_is_spared_by_the_sweep(tmp_path):
    base = tmp_path / "fake"
    base.mkdir()
    live = FakeBackend(base_dir=base)
    live.prepare_run("live-run", this_process_owner())
    handle = live.create(ContainerSpec("live-run", "step", "img", None, "1:1", {}))
    report = FakeBackend(base_dir=base).clean_dead_runs()
    assert report.spared_runs == ["live-run"] and not report.removed_anything
    assert live.exec(handle, ["true"], 10).exit_code == 0
    live.teardown_run(live.runs["live-run"])
    assert list(base.iterdir()) == []


@pytest.mark.parametrize(
    ("pipeline", "make_repo_plain", "error", "words"),
    [
        ("missing.yaml", False, ConfigurationError, "missing.yaml"),
        (READ_WRITE, True, ConfigurationError, "needs a git repository"),
    ],
)
def test_a_configuration_mistake_creates_nothing(tmp_path, pipeline, make_repo_plain, error, words):
    project = FakeProject(tmp_path, pipeline if pipeline.startswith("kind") else ONE_STEP, {"steps": {}})
    target = project.pipeline if pipeline.startswith("kind") else project.definitions / pipeline
    repo = project.repo
    if make_repo_plain:
        repo = tmp_path / "plain"
        repo.mkdir()
    backend = RecordingBackend(project.fake_base)
    with pytest.raises(error, match=words):
        launch_run(str(target), repo, project.options(), backend, [], lambda _message: None)
    assert backend.calls == [], "the backend is not even asked"
    assert not (repo / ".wave" / "runs").exists() or not any((repo / ".wave" / "runs").iterdir())
    assert project.sandbox_folders() == []


def test_a_check_refused_after_the_environment_was_started_removes_it(tmp_path):
    """The run's environment is made while the engine is checked: a refused check tears it down."""
    project = FakeProject(tmp_path, ONE_STEP, {"steps": {"only": [say("done")]}})
    backend = RecordingBackend(project.fake_base)
    with pytest.raises(ConfigurationError, match="--runtime runsc"):
        launch_run(str(project.pipeline), project.repo, project.options(runtime="runsc"), backend, [],
                   lambda _message: None)  # fmt: skip
    assert "prepare_run" in backend.calls and backend.calls[-1] == "teardown_run"
    assert backend.runs == {} and project.sandbox_folders() == []


def test_resume_refuses_a_completed_run_and_an_unknown_one(tmp_path):
    project = FakeProject(tmp_path, ONE_STEP, {"steps": {"only": [say("done")]}})
    run = project.run()
    assert run.result.status == "completed"
    backend = RecordingBackend(project.fake_base)
    with pytest.raises(ConfigurationError, match="completed; there is nothing to resume"):
        launch_resume(run.result.run_id, project.repo, None, False, backend, [], lambda _message: None)
    with pytest.raises(RunNotFoundError):
        launch_resume("no-such-run", project.repo, None, False, backend, [], lambda _message: None)
    assert backend.calls == []


def test_a_resume_sweeps_what_its_killed_attempt_left_before_it_makes_its_network(tmp_path):
    """A new run sweeps while its network is made (what it sees of that run is alive); a resumed run's id
    may hold objects of its killed attempt (owner gone), so it sweeps first, as every run did before."""
    project = FakeProject(tmp_path, ONE_STEP, {"steps": {"only": [say("done")]}})
    first = project.run()
    assert first.error is None, first.error
    run_id = first.result.run_id
    crashed = FakeBackend(base_dir=project.fake_base)
    crashed.prepare_run(run_id, f"{socket.gethostname()}:{NO_SUCH_PID}:1")
    crashed.create(ContainerSpec(run_id, "only", "img", None, "1:1", {}))
    backend = RecordingBackend(project.fake_base)
    result = launch_resume(run_id, project.repo, None, False, backend, [], lambda _message: None, from_step="only")
    assert result.status == "completed"
    assert backend.calls[0] == "clean_dead_runs" and backend.calls.index("prepare_run") > 0, backend.calls
    assert backend.calls.count("clean_dead_runs") == 1
    assert project.sandbox_folders() == []
