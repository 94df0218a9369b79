"""The repository is found the way git finds it, and exit codes are the same across commands.

From any subdirectory a run works on the checkout's top level (its records there, never in the
subfolder), and every command that reads records finds them from there. Every usage or configuration
mistake exits 2 with one line (`runs --repo /nope` included; an empty repository too, `doctor` alike),
a step failure 1, an interrupt (SIGINT or SIGTERM) 130. Real daemon, real git, scripted model.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.integration.conftest import git, run_cli
from tests.integration.scripted_runs import bash, one_commit_repository, say, write_file, write_pipeline
from tests.integration.workspace.helpers import (
    assert_run_left_nothing, craftsman_pipeline, finish_cli, run_record, start_cli, wave_branches,
)

pytestmark = pytest.mark.docker

FIX_SCRIPT = {"steps": {"fix": [
    [write_file("/src/fixed.txt", "fixed\n"), write_file("output/plan.md", "the plan\n")],
    say("Fixed it"),
]}}
SLOW_SCRIPT = {"steps": {"fix": [[bash("sleep 120")], say("never")]}}
COMMANDS_WITH_REPO = (
    ("runs",), ("show", "latest"), ("logs", "latest"), ("artifacts", "latest"), ("resume", "latest"),
    ("clean",), ("doctor",), ("validate", "incident-response"), ("list",), ("init",),
    ("run", "incident-response", "500s"), ("evidence", "--logs", "/tmp"),
)


@pytest.fixture
def nested(tmp_path, agent_image):
    repo = one_commit_repository(tmp_path / "service")
    (repo / "src" / "handlers").mkdir(parents=True)
    (repo / "src" / "handlers" / "orders.py").write_text("def handle():\n    return 500\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "handlers")
    definitions = tmp_path / "definitions"
    definitions.mkdir()
    return {"repo": repo, "subfolder": repo / "src" / "handlers", "definitions": definitions, "tmp": tmp_path}


def one_error_line(completed) -> str:
    lines = [line for line in completed.stderr.splitlines() if line.strip() and not line.startswith("notice:")]
    assert len(lines) == 1, completed.stderr
    assert "Traceback" not in completed.stderr and "Internal error" not in completed.stderr
    return lines[0]


def test_a_run_from_a_subdirectory_works_on_the_top_level(nested, docker):
    repo, subfolder = nested["repo"], nested["subfolder"]
    pipeline, script = write_pipeline(nested["definitions"], craftsman_pipeline("nested", {"plan": "output/plan.md"}),
                                      FIX_SCRIPT)
    completed = run_cli("run", str(pipeline), "--model", f"scripted:{script}", cwd=subfolder)
    assert completed.returncode == 0, completed.stderr
    assert not (subfolder / ".wave").exists() and not (subfolder / "output").exists()
    [run_id] = [path.name for path in (repo / ".wave" / "runs").iterdir() if path.is_dir()]
    assert run_record(repo, run_id)["status"] == "completed"
    assert (repo / "output" / "plan.md").read_text() == "the plan\n"
    [branch] = wave_branches(repo)
    assert git(repo, "show", f"{branch}:fixed.txt") == "fixed\n"
    assert_run_left_nothing(docker, run_id)
    for command in (("runs",), ("show", run_id), ("logs", run_id), ("artifacts", run_id)):
        found = run_cli(*command, cwd=subfolder)
        assert found.returncode == 0, found.stderr
        assert command[0] == "logs" or run_id in found.stdout, found.stdout
    doctor = run_cli("doctor", cwd=subfolder)
    assert f"{repo} is a git checkout" in doctor.stdout, doctor.stdout


@pytest.mark.parametrize("command", COMMANDS_WITH_REPO, ids=lambda command: command[0])
def test_a_missing_repo_folder_exits_2_in_one_line_for_every_command(command, tmp_path):
    missing = tmp_path / "nope"
    completed = run_cli(*command, "--repo", str(missing), cwd=tmp_path)
    assert completed.returncode == 2, (completed.stdout, completed.stderr)
    assert str(missing) in one_error_line(completed)
    assert not missing.exists()


def test_runs_in_a_folder_without_records_is_no_error(tmp_path):
    completed = run_cli("runs", cwd=tmp_path)
    assert (completed.returncode, completed.stdout.strip()) == (0, "No runs yet.")
    assert run_cli("show", "latest", cwd=tmp_path).returncode == 2


def test_an_empty_repository_exits_2_without_a_record_and_doctor_says_so(nested, docker):
    empty = nested["tmp"] / "empty"
    empty.mkdir()
    git(empty, "init", "-q", "-b", "main")
    pipeline, script = write_pipeline(nested["definitions"], craftsman_pipeline("empty", {"plan": "output/plan.md"}),
                                      FIX_SCRIPT)
    completed = run_cli("run", str(pipeline), "--model", f"scripted:{script}", "--repo", str(empty),
                        cwd=nested["tmp"])
    assert completed.returncode == 2, completed.stderr
    assert "no commits yet" in one_error_line(completed)
    assert not (empty / ".wave").exists() and not (empty / "output").exists()
    doctor = run_cli("doctor", "--repo", str(empty), cwd=nested["tmp"])
    assert doctor.returncode == 2 and "without commits" in doctor.stdout, doctor.stdout


def test_a_step_failure_exits_1(nested):
    pipeline, script = write_pipeline(nested["definitions"], craftsman_pipeline("fails", {"plan": "output/plan.md"}),
                                      {"steps": {"fix": [say("I wrote nothing")]}})
    completed = run_cli("run", str(pipeline), "--model", f"scripted:{script}", cwd=nested["subfolder"])
    assert completed.returncode == 1, completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_exits_130_from_a_subdirectory(nested, docker, signal_number):
    pipeline, script = write_pipeline(nested["definitions"], craftsman_pipeline("slow", {"plan": "output/plan.md"}),
                                      SLOW_SCRIPT)
    process = start_cli("run", str(pipeline), "--model", f"scripted:{script}", cwd=nested["subfolder"])
    try:
        for line in process.stdout:
            if line.split()[1:3] == ["started", "fix"]:
                break
        time.sleep(3)
        process.send_signal(signal_number)
    finally:
        completed = finish_cli(process, timeout=90)
    assert completed.returncode == 130, completed.stderr
    assert "Traceback" not in completed.stderr
    [run_id] = [path.name for path in (nested["repo"] / ".wave" / "runs").iterdir() if path.is_dir()]
    assert_run_left_nothing(docker, run_id)


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("delay_s", [0.5, 1.2])  # earlier, Python itself is still starting
def test_an_interrupt_while_the_cli_starts_exits_130_in_one_line(nested, signal_number, delay_s):
    """Loading the CLI takes about a second on a busy machine: a signal then is an interrupt too."""
    pipeline, script = write_pipeline(nested["definitions"], craftsman_pipeline("early", {"plan": "output/plan.md"}),
                                      SLOW_SCRIPT)
    process = start_cli("run", str(pipeline), "--model", f"scripted:{script}", cwd=nested["subfolder"])
    time.sleep(delay_s)
    process.send_signal(signal_number)
    completed = finish_cli(process, timeout=90)
    assert completed.returncode == 130, completed.stderr
    assert "Traceback" not in completed.stderr
    said = [line for line in completed.stderr.splitlines() if "Interrupted." in line or "Resume with" in line]
    assert said, completed.stderr
