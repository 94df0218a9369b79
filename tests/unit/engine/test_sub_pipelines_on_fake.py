"""Sub-pipelines on the fake backend: a child's rework step, and a graph pipeline (edges) run as a child.

The real engine, agent and gateway, the scripted model; no Docker. Child pipelines live in the
repository's `.wave/pipelines`, where a sub-pipeline's name is looked up.
"""

from __future__ import annotations

from tests.graph_pipelines import HARDENING, PUBLISHING
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


CALLS_HARDENING = """\
kind: WavePipeline
metadata: {name: calls-hardening}
steps:
  - id: harden
    pipeline: hardening
  - id: report
    persona: summarizer
    dependencies: [harden]
    memory: {inject_artifacts: [{step: harden, artifact: summary, as: summary}]}
    exec: {source: "Report"}
"""

PATCHED = [[write("output/patch.md", "patched\n")], say("patched")]


def visits(run, prefix: str) -> list[tuple[str, str]]:
    return [(e.state, e.step_id) for e in run.events
            if e.step_id and e.step_id.startswith(prefix) and e.state in ("started", "completed", "failed", "skipped")]


def test_a_graph_sub_pipeline_revisits_a_step_by_its_edges_and_stops_at_max_visits(tmp_path):
    script = {"steps": {"harden.fix": PATCHED * 3}}  # harden.test never writes its verdict: it always fails
    run = project_with_children(tmp_path, CALLS_HARDENING, script, hardening=HARDENING).run()
    assert run.error is None, run.error
    assert visits(run, "harden.") == [
        ("started", "harden.fix"), ("completed", "harden.fix"), ("started", "harden.test"), ("failed", "harden.test"),
        ("started", "harden.fix"), ("completed", "harden.fix"), ("started", "harden.test"), ("failed", "harden.test"),
        ("failed", "harden.fix"), ("skipped", "harden.done")]
    assert run.message("harden.fix") == "step harden.fix reached its max_visits (2); the graph stops"
    assert run.result.status == "failed"
    assert run.record()["failure"] == ("step harden failed: sub-pipeline hardening failed: step harden.fix: "
                                       "step harden.fix reached its max_visits (2); the graph stops")
    assert run.states("report") == ["skipped"]
    assert run.record()["graphs"]["harden"]["visits"] == {"harden.fix": 2, "harden.test": 2}


def test_a_graph_sub_pipeline_that_reaches_its_end_hands_its_artifacts_to_the_parent(tmp_path):
    script = {"steps": {"harden.fix": PATCHED * 2,
                        "harden.test": [[write("output/other.md", "no verdict")], say("failing"), say("still"),
                                        [write("output/verdict.md", "green\n")], say("passing")],
                        "harden.done": [[write("output/summary.md", "hardened\n")], say("summarised")],
                        "report": [say("reported")]}}
    run = project_with_children(tmp_path, CALLS_HARDENING, script, hardening=HARDENING).run()
    assert run.error is None, run.error
    assert run.result.status == "completed", run.record().get("failure")
    assert [s for s, sid in visits(run, "harden.") if sid == "harden.test"] == ["started", "failed", "started", "completed"]
    assert run.states("harden")[-1] == "completed" and run.states("report")[-1] == "completed"
    assert (run.record_folder() / "steps" / "harden" / "artifacts" / "summary.md").read_text() == "hardened\n"


CALLS_PUBLISHING = """\
kind: WavePipeline
metadata: {name: calls-publishing}
steps:
  - id: sub
    pipeline: publishing
"""


def test_resume_goes_on_where_a_graph_sub_pipeline_stopped(tmp_path):
    steps = {"sub.draft": [[write("output/draft.md", "d")], say("drafted")],
             "sub.review": [[write("output/review.md", "ok")], say("reviewed")]}
    project = project_with_children(tmp_path, CALLS_PUBLISHING, {"steps": steps}, publishing=PUBLISHING)
    first = project.run()
    assert first.result.status == "failed"  # publish writes nothing: a failure without edges ends the graph
    assert first.record()["graphs"]["sub"]["current"] == "sub.publish"
    project.write_script({"steps": {"sub.publish": [[write("output/published.md", "live")], say("published")]}})
    resumed = project.resume(first.result.run_id)
    assert resumed.error is None, resumed.error
    assert resumed.result.status == "completed", resumed.record().get("failure")
    started = [sid for sid in resumed.started_steps() if sid.startswith("sub.")]
    assert started == ["sub.publish"]  # its one visit (max_visits: 1) is the one the first run began
    assert (project.repo / "output" / "published.md").read_text() == "live"
