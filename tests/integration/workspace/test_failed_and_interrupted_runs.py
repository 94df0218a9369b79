"""A read-write step that fails, or a run interrupted during it, leaves no branch, no clone and no
container, and the user's repository as it was."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.conftest import CLI, git, run_cli
from tests.integration.workspace.helpers import (
    assert_run_left_nothing,
    bash,
    craftsman_pipeline,
    edit_file,
    json_events,
    only_run_id,
    repository_state,
    run_record,
    say,
    wave_branches,
    write_file,
    write_pipeline,
)

pytestmark = pytest.mark.docker


def service_repository(root: Path) -> Path:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "app.py").write_text("def handler():\n    return 500\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory, agent_image, docker):
    """The craftsman edits a file and adds one, then never writes its declared artifact."""
    base = tmp_path_factory.mktemp("failed")
    repo = service_repository(base / "service")
    before = repository_state(repo)
    script = {"steps": {"fix": [
        [edit_file("/src/app.py", "return 500", "return 200"), write_file("/src/NEW.md", "new\n")],
        say("Edited, but forgot the plan"),
    ]}}
    pipeline, script_file = write_pipeline(base, craftsman_pipeline("failing", {"plan": "output/plan.md"}), script)
    completed = run_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
                        "--output", str(base / "out"), "--json", cwd=base)
    return {"completed": completed, "repo": repo, "before": before, "run_id": only_run_id(repo)}


def test_the_failed_step_fails_the_run(failed_run):
    assert failed_run["completed"].returncode == 1, failed_run["completed"].stderr
    events = json_events(failed_run["completed"].stdout)
    failed = next(event for event in events if event["state"] == "failed")
    assert failed["step_id"] == "fix" and "was not written" in failed["message"]


def test_a_failed_step_leaves_no_branch(failed_run):
    assert wave_branches(failed_run["repo"]) == []
    final = json_events(failed_run["completed"].stdout)[-1]
    assert (final["state"], final["branch"], final["commits"]) == ("run_failed", None, [])
    record = run_record(failed_run["repo"], failed_run["run_id"])
    assert (record["branch"], record["commits"]) == (None, [])
    assert "Branch:" not in failed_run["completed"].stdout


def test_a_failed_step_leaves_no_clone(failed_run):
    record_folder = failed_run["repo"] / ".wave" / "runs" / failed_run["run_id"]
    assert record_folder.is_dir() and not (record_folder / "clone").exists()


def test_a_failed_step_leaves_the_repository_as_it_was(failed_run):
    after = repository_state(failed_run["repo"])
    for key in ("status", "head", "index", "working_tree", "refs", "git_metadata"):
        assert after[key] == failed_run["before"][key], key


def test_a_failed_step_leaves_no_docker_objects(failed_run, docker):
    assert_run_left_nothing(docker, failed_run["run_id"])


def wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def interrupted_run(tmp_path_factory, agent_image, docker):
    """Ctrl-C lands while the craftsman, having edited the clone, sleeps in its container."""
    base = tmp_path_factory.mktemp("interrupted")
    repo = service_repository(base / "service")
    before = repository_state(repo)
    script = {"steps": {"fix": [
        [edit_file("/src/app.py", "return 500", "return 200"), write_file("output/plan.md", "# plan\n")],
        [bash("sleep 120")],
        say("never"),
    ]}}
    pipeline, script_file = write_pipeline(base, craftsman_pipeline("interrupted", {"plan": "output/plan.md"}), script)
    process = subprocess.Popen(
        [str(CLI), "run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
         "--output", str(base / "out")],
        cwd=base, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        runs = repo / ".wave" / "runs"
        wait_for(lambda: runs.is_dir() and any(runs.glob("*/clone/app.py")), 60, "the clone")
        clone_app = next(runs.glob("*/clone/app.py"))
        wait_for(lambda: "return 200" in clone_app.read_text(), 60, "the craftsman's edit")
        run_id = clone_app.parent.parent.name
        wait_for(lambda: any(run_objects_alive(docker, run_id)), 30, "the step's container")
        time.sleep(1.5)  # the agent is now in `sleep 120`
        interrupted_at = time.monotonic()
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
        stopped_after = time.monotonic() - interrupted_at
    finally:
        if process.poll() is None:
            process.kill()
    return {"process": process, "stdout": stdout, "stderr": stderr, "repo": repo, "before": before,
            "run_id": run_id, "clone": clone_app.parent, "stopped_after": stopped_after}


def run_objects_alive(docker, run_id: str) -> list[str]:
    return [c.id for c in docker.containers.list(sparse=True, filters={"label": f"wave-sandbox.run={run_id}"})]


def test_an_interrupted_run_exits_130_promptly(interrupted_run):
    assert interrupted_run["process"].returncode == 130, interrupted_run["stderr"]
    assert "Traceback" not in interrupted_run["stderr"]
    assert interrupted_run["stopped_after"] < 30


def test_an_interrupted_run_leaves_no_clone(interrupted_run):
    assert not interrupted_run["clone"].exists()


def test_an_interrupted_run_leaves_no_container(interrupted_run, docker):
    assert_run_left_nothing(docker, interrupted_run["run_id"])


def test_an_interrupted_run_leaves_no_branch(interrupted_run):
    assert wave_branches(interrupted_run["repo"]) == []
    assert "Branch:" not in interrupted_run["stdout"]


def test_an_interrupted_run_leaves_the_repository_as_it_was(interrupted_run):
    after = repository_state(interrupted_run["repo"])
    for key in ("status", "head", "index", "working_tree", "refs", "git_metadata"):
        assert after[key] == interrupted_run["before"][key], key
