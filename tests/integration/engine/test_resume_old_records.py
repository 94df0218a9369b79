"""`resume` of a run whose run.json was written by the first release (no key added since), end to end:
the finished step is not run again, the failed one runs with the recorded options, the record keeps its
shape. Real daemon, real containers, scripted model over real HTTP."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import assert_run_left_nothing, run_cli
from tests.integration.scripted_runs import one_commit_repository, say, write_pipeline
from tests.integration.scripted_runs import write_file as write

pytestmark = pytest.mark.docker

PIPELINE = """\
kind: WavePipeline
metadata:
  name: resumable
steps:
  - id: first
    persona: navigator
    exec:
      source: "Write the first note"
    output_artifacts:
      - name: first
        path: output/first.md
        type: markdown
  - id: second
    persona: summarizer
    dependencies: [first]
    memory:
      inject_artifacts:
        - {step: first, artifact: first, as: note}
    exec:
      source: "Write the second note"
    output_artifacts:
      - name: second
        path: output/second.md
        type: markdown
"""
ADDED_SINCE_THE_FIRST_RELEASE = ("acting_files", "base_commit", "resumed_at")
OPTIONS_ADDED_SINCE = ("output_display", "attachments")


def as_first_release_wrote_it(run_json) -> dict:
    data = json.loads(run_json.read_text())
    for key in ADDED_SINCE_THE_FIRST_RELEASE:
        data.pop(key, None)
    for key in OPTIONS_ADDED_SINCE:
        data["options"].pop(key, None)
    for step in data["steps"].values():
        step.pop("retry_errors", None)
    run_json.write_text(json.dumps(data, indent=2))
    return data


def test_a_first_release_record_resumes_from_its_failed_step(tmp_path, docker, agent_image):
    repo = one_commit_repository(tmp_path / "service")
    failing = {"steps": {"first": [[write("output/first.md", "# First\n")], say("First done")],
                         "second": [say("I wrote nothing")]}}  # fmt: skip
    pipeline, script = write_pipeline(tmp_path, PIPELINE, failing)
    common = ("--repo", str(repo), "--output", str(tmp_path / "out"))
    failed = run_cli("run", str(pipeline), "go", *common, "--max-parallel", "1", "--step-timeout", "300",
                     "--model", f"scripted:{script}", cwd=tmp_path)  # fmt: skip
    assert failed.returncode == 1, failed.stderr
    run_id = next((repo / ".wave" / "runs").glob("2*")).name
    run_json = repo / ".wave" / "runs" / run_id / "run.json"
    before = as_first_release_wrote_it(run_json)

    shown = run_cli("show", run_id, "--repo", str(repo), cwd=tmp_path)
    assert shown.returncode == 0 and "second" in shown.stdout and "failed" in shown.stdout, shown.stderr
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(json.dumps({"steps": {"second": [[write("output/second.md", "# Second\n")], say("Second done")]}}))
    resumed = run_cli("resume", run_id, "--repo", str(repo), "--model", f"scripted:{fixed}", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr

    after = json.loads(run_json.read_text())
    assert after["status"] == "completed" and after["steps"]["second"]["status"] == "completed"
    assert after["steps"]["first"] == before["steps"]["first"]  # finished before: not run again
    assert after["options"] == before["options"]  # the recorded options, not other defaults
    assert (tmp_path / "out" / "second.md").read_text() == "# Second\n"
    assert_run_left_nothing(docker, run_id)


