"""A run that fails before its first step (an empty repository, `--output` naming a file, a run started
from a subdirectory) leaves no record saying `running`: a record it made ends as failed with its
one-line reason, which is also what the run printed, and the resume command comes last."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import git, run_cli
from tests.integration.engine.lifecycle_kit import LIFECYCLE_PIPELINE, lifecycle_script, service_repository
from tests.security.attack_kit import objects_left_after

pytestmark = pytest.mark.docker


def write_run_files(folder: Path) -> tuple[Path, Path]:
    import yaml

    pipeline = folder / "pipeline.yaml"
    pipeline.write_text(LIFECYCLE_PIPELINE.format(name="setup"))
    script = folder / "script.yaml"
    script.write_text(yaml.safe_dump(lifecycle_script(), sort_keys=False))
    return pipeline, script


def records_under(folder: Path) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(folder.rglob(".wave/runs/*/run.json"))]


def assert_no_record_says_running(base: Path, completed, docker) -> None:
    assert completed.returncode != 0
    assert "Traceback" not in completed.stderr, completed.stderr
    records = records_under(base)
    # Refused before anything was made (exit 2, no record), or one record that ended as failed.
    assert records or completed.returncode == 2, completed.stderr
    assert len(records) <= 1, records
    for record in records:
        assert record["status"] == "failed", record
        reason = record["failure"]
        assert reason and "\n" not in reason
        assert reason in completed.stdout + completed.stderr  # said once, as the run ended
        assert completed.stderr.rstrip().splitlines()[-1].startswith(f"Resume with: wave-sandbox resume {record['run_id']}")
        assert not any(objects_left_after(docker, record["run_id"]).values())
        runs = run_cli("runs", "--repo", str(base / "service"), cwd=base)
        assert " running" not in runs.stdout, runs.stdout


def test_an_empty_repository_leaves_no_running_record(tmp_path, docker, agent_image):
    repo = tmp_path / "service"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    pipeline, script = write_run_files(tmp_path)
    completed = run_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script}",
                        "--output", str(tmp_path / "out"), cwd=tmp_path)
    assert_no_record_says_running(tmp_path, completed, docker)


def test_an_output_that_is_a_file_leaves_no_running_record(tmp_path, docker, agent_image):
    repo = service_repository(tmp_path / "service")
    pipeline, script = write_run_files(tmp_path)
    (tmp_path / "taken").write_text("a file\n")
    completed = run_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script}",
                        "--output", str(tmp_path / "taken"), cwd=tmp_path)
    assert_no_record_says_running(tmp_path, completed, docker)
    assert (tmp_path / "taken").read_text() == "a file\n"


def test_a_run_from_a_subdirectory_leaves_no_running_record(tmp_path, docker, agent_image):
    repo = service_repository(tmp_path / "service")
    (repo / "orders").mkdir()
    (repo / "orders" / "api.py").write_text("x = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "orders")
    pipeline, script = write_run_files(tmp_path)
    completed = run_cli("run", str(pipeline), "--model", f"scripted:{script}", "--output", str(tmp_path / "out"),
                        cwd=repo / "orders")
    if completed.returncode == 0:  # the repository is found as git finds it: then the run simply works
        return
    assert_no_record_says_running(tmp_path, completed, docker)
