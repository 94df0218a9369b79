"""Sub-pipelines on the fake backend: a child's rework step, and a graph pipeline (edges) run as a child.

The real engine, agent and gateway, the scripted model; no Docker. Child pipelines live in the
repository's `.wave/pipelines`, where a sub-pipeline's name is looked up.
"""

from __future__ import annotations

from tests.integration.scripted_runs import say
from tests.integration.scripted_runs import write_file as write
from tests.unit.engine.fake_runs import FakeProject

FIXING_CHILD = """\
kind: WavePipeline
metadata: {name: fixing}
steps:
  - id: make
    persona: navigator
    exec: {source: "Make"}
    output_artifacts: [{name: made, path: output/made.md}]
    handover:
      contract: {type: non_empty_file, on_failure: rework, rework_step: fix}
  - id: fix
    persona: navigator
    rework_only: true
    exec: {source: "Fix"}
    output_artifacts: [{name: made, path: output/fixed.md}]
"""

CALLS_FIXING = """\
kind: WavePipeline
metadata: {name: calls-fixing}
steps:
  - id: sub
    pipeline: fixing
"""


def project_with_children(tmp_path, pipeline: str, script: dict, **children: str) -> FakeProject:
    project = FakeProject(tmp_path, pipeline, script)
    folder = project.repo / ".wave" / "pipelines"
    folder.mkdir(parents=True)
    for name, text in children.items():
        (folder / f"{name}.yaml").write_text(text)
    return project


def test_a_sub_pipelines_rework_step_runs_only_when_its_step_fails(tmp_path):
    script = {"steps": {"sub.make": [[write("output/made.md", "")], say("made"), say("still empty")],
                        "sub.fix": [[write("output/fixed.md", "fixed\n")], say("fixed")]}}
    run = project_with_children(tmp_path, CALLS_FIXING, script, fixing=FIXING_CHILD).run()
    assert run.error is None, run.error
    assert run.result.status == "completed", run.record().get("failure")
    assert run.started_steps().count("sub.fix") == 1
    assert "reworking" in run.states("sub.make")
    assert run.states("sub.make")[-1] == "completed"


TYPED_CHILD = """\
kind: WavePipeline
metadata: {name: typed}
steps:
  - id: read
    persona: navigator
    memory: {inject_artifacts: [{pipeline: with-brief, artifact: brief, as: brief, type: json}]}
    exec: {source: "Read the brief"}
"""

WITH_BRIEF = """\
kind: WavePipeline
metadata: {name: with-brief}
steps:
  - id: brief
    persona: navigator
    exec: {source: "Brief"}
    output_artifacts: [{name: brief, path: output/brief.md, type: markdown}]
  - id: sub
    dependencies: [brief]
    pipeline: typed
"""


def test_an_injections_type_must_match_the_parents_artifact(tmp_path):
    script = {"steps": {"brief": [[write("output/brief.md", "# brief\n")], say("briefed")]}}
    run = project_with_children(tmp_path, WITH_BRIEF, script, typed=TYPED_CHILD).run()
    assert run.result.status == "failed"
    assert run.message("sub") == ("sub-pipeline typed: step read expects artifact 'brief' of type json; "
                                  "its parent's step brief declares it as markdown (artifact type mismatch)")
    assert "sub.read" not in run.started_steps()
