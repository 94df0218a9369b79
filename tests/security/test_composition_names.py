"""An agent's output is data: it cannot make an iterate step run a pipeline the pipeline file never names.

The attack: a pipeline fans out with `pipeline: "{{ item }}"` over a list an agent writes. The agent
(scripted here) adds a pipeline the repository holds but this file never names (`deploy-prod`, which
writes to the repository) and a path. The composer reads the list (its refusal names the smuggled
item, so the payload reached it), refuses the fan-out before any child step starts, and nothing of
`deploy-prod` runs. Real daemon, real containers, real git.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import run_cli
from tests.integration.engine.test_composition import CHILD, assert_runs_left_nothing, json_events
from tests.integration.scripted_runs import one_commit_repository, say, write_pipeline
from tests.integration.scripted_runs import write_file as write

pytestmark = pytest.mark.docker

DEPLOY = """\
kind: WavePipeline
metadata: {name: deploy-prod}
steps:
  - id: push
    persona: craftsman
    workspace: {mount: [{source: ./, target: /src, mode: readwrite}]}
    exec: {source: "Deploy"}
"""

FAN_OUT_BY_NAME = """\
kind: WavePipeline
metadata: {name: by-name}
steps:
  - id: scout
    persona: navigator
    exec: {source: "Which audits?"}
    output_artifacts: [{name: targets, path: output/targets.json, type: json}]
  - id: baseline
    pipeline: audit-one
  - id: fan
    dependencies: [scout]
    pipeline: "{{ item }}"
    iterate: {over: "{{ scout.output }}", mode: parallel}
"""


@pytest.mark.parametrize("smuggled", ["deploy-prod", "../../../../tmp/evil"])
def test_an_agents_list_cannot_name_a_pipeline_outside_the_files_own(tmp_path, smuggled, agent_image, docker):
    repo = one_commit_repository(tmp_path / "service")
    (repo / ".wave" / "pipelines").mkdir(parents=True)
    (repo / ".wave" / "pipelines" / "audit-one.yaml").write_text(CHILD)
    (repo / ".wave" / "pipelines" / "deploy-prod.yaml").write_text(DEPLOY)
    done = [[write("output/result.json", "[]")], say("checked")]
    script = {"steps": {
        "scout": [[write("output/targets.json", json.dumps(["audit-one", smuggled]))], say("two audits")],
        "baseline.check": done, "fan.1.check": done, "fan.2.push": [say("deployed")],
    }}
    pipeline, script_file = write_pipeline(tmp_path, FAN_OUT_BY_NAME, script)
    completed = run_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
                        "--output", str(tmp_path / "out"), "--json", cwd=tmp_path)
    assert completed.returncode == 1
    events = json_events(completed)
    failure = next(e for e in events if e["state"] == "failed" and e["step_id"] == "fan")["message"]
    assert f"item 2 names pipeline '{smuggled}', which no pipeline file of this run names" in failure
    started = {e["step_id"] for e in events if e["state"] == "started"}
    assert started == {"scout", "baseline", "baseline.check", "fan"}  # the fan-out was refused as a whole
    record = repo / ".wave" / "runs" / events[0]["run_id"]
    assert not (record / "steps" / "fan.2.push").exists() and not (record / "clone").exists()
    assert "Traceback" not in completed.stderr
    assert_runs_left_nothing(docker, repo)
