"""Composition steps inside graph pipelines (edges), on the fake backend: one visit is one fresh child run,
a resumed graph names its children as the first attempt did, a gate does not move a graph, and a run
that stops starts nothing more.

The real engine, agent and gateway, the scripted model; no Docker.
"""

from __future__ import annotations

import time

from tests.integration.scripted_runs import say
from tests.integration.scripted_runs import write_file as write
from tests.unit.engine.test_sub_pipelines_on_fake import project_with_children
from wave_sandbox.engine.preflight import Preflight

CHECK = """\
kind: WavePipeline
metadata: {name: check-one}
steps:
  - id: check
    persona: navigator
    exec: {source: "Check"}
    output_artifacts: [{name: result, path: output/result.md}]
"""

REVISITING = """\
kind: WavePipeline
metadata: {name: revisiting}
steps:
  - id: sub
    pipeline: check-one
    max_visits: 2
    edges: [{target: judge}]
  - id: judge
    persona: navigator
    dependencies: [sub]
    memory: {inject_artifacts: [{step: sub, artifact: result, as: result}]}
    exec: {source: "Judge"}
    output_artifacts: [{name: verdict, path: output/verdict.md}]
    edges: [{target: _complete, condition: "outcome=success"}, {target: sub}]
"""


def checked(text: str) -> list:
    return [[write("output/result.md", text)], say("checked")]


def labels(run) -> dict[str, str]:
    return {event.step_id: event.label for event in run.events if event.step_id and event.label}


def test_each_visit_of_a_sub_pipeline_step_in_a_graph_runs_a_fresh_child(tmp_path):
    script = {"steps": {"sub.check": checked("first\n"), "sub.visit2.check": checked("second\n"),
                        "judge": [say("no verdict yet"), say("still none"),  # the agent asks once more
                                  [write("output/verdict.md", "fine")], say("judged")]}}
    run = project_with_children(tmp_path, REVISITING, script, **{"check-one": CHECK}).run()
    assert run.error is None, run.error
    assert run.result.status == "completed", run.record().get("failure")
    assert run.started_steps() == ["sub", "sub.check", "judge", "sub", "sub.visit2.check", "judge"]
    assert run.states("sub") == ["started", "sub_pipeline", "completed"] * 2
    assert labels(run)["sub.visit2.check"] == "sub#2/check"
    assert run.record()["graph"]["visits"] == {"sub": 2, "judge": 2}
    assert (run.record_folder() / "steps" / "sub" / "artifacts" / "result.md").read_text() == "second\n"


PAIR = """\
kind: WavePipeline
metadata: {name: pair}
steps:
  - id: a
    persona: navigator
    exec: {source: "A"}
    output_artifacts: [{name: first, path: output/a.md}]
  - id: b
    persona: navigator
    dependencies: [a]
    exec: {source: "B"}
    output_artifacts: [{name: second, path: output/b.md}]
"""

STOPS_IN_A_CHILD = """\
kind: WavePipeline
metadata: {name: stops-in-a-child}
steps:
  - id: sub
    pipeline: pair
  - id: route
    type: conditional
    dependencies: [sub]
    edges: [{target: _complete}]
"""


def test_resume_in_a_graph_runs_only_the_unfinished_child_of_the_visit_it_stopped_in(tmp_path):
    script = {"steps": {"sub.a": [[write("output/a.md", "a")], say("a done")]}}  # sub.b writes nothing: it fails
    project = project_with_children(tmp_path, STOPS_IN_A_CHILD, script, pair=PAIR)
    first = project.run()
    assert first.error is None, first.error
    assert first.result.status == "failed" and first.record()["graph"]["current"] == "sub"
    project.write_script({"steps": {"sub.b": [[write("output/b.md", "b")], say("b done")]}})
    resumed = project.resume(first.result.run_id)
    assert resumed.error is None, resumed.error
    assert resumed.result.status == "completed", resumed.record().get("failure")
    assert resumed.started_steps() == ["sub", "sub.b", "route"]


GOES_BACK = """\
kind: WavePipeline
metadata: {name: goes-back}
steps:
  - id: draft
    persona: navigator
    exec: {source: "Draft"}
    edges: [{target: ask}]
  - id: ask
    gate: {type: approval, auto: true, default: a, choices: [{key: a, label: Again, target: draft}]}
"""


def test_a_gate_in_a_graph_fails_with_one_line_when_its_choice_names_a_step_that_ran(tmp_path):
    run = project_with_children(tmp_path, GOES_BACK, {"steps": {"draft": [say("drafted")]}}).run()
    assert run.error is None, run.error
    assert run.started_steps() == ["draft", "ask"]
    assert run.result.status == "failed"
    assert run.record()["failure"] == ("step ask failed: auto-approved (auto: true): Again (a); a gate in a graph "
                                       "pipeline cannot send the run back to draft, which already ran: route back "
                                       "with an edge")


SLOW_GRAPH = """\
kind: WavePipeline
metadata: {name: slow-graph}
steps:
  - id: one
    persona: navigator
    exec: {source: "One"}
    edges: [{target: two}]
  - id: two
    persona: navigator
    exec: {source: "Two"}
"""

ABORTED = """\
kind: WavePipeline
metadata: {name: aborted}
steps:
  - id: sub
    pipeline: slow-graph
  - id: wait
    persona: navigator
    exec: {source: "Wait"}
  - id: stop
    dependencies: [wait]
    gate: {type: approval, auto: true, default: q, choices: [{key: q, label: Stop, target: _fail}]}
"""


def test_a_graph_sub_pipeline_starts_no_step_once_the_run_has_stopped(tmp_path):
    script = {"steps": {"sub.one": [{"delay_s": 8, "content": say("one, slowly")}], "sub.two": [say("two")],
                        "wait": [{"delay_s": 1, "content": say("waited")}]}}
    run = project_with_children(tmp_path, ABORTED, script, **{"slow-graph": SLOW_GRAPH}).run()
    assert run.error is None, run.error
    assert run.result.status == "failed"
    assert run.record()["failure"] == "step stop failed: auto-approved (auto: true): Stop (q); the run stops"
    assert run.states("sub.one") == ["started", "completed"]  # it was under way when the gate stopped the run
    assert run.states("sub.two") == ["skipped"]


STOPS = """\
kind: WavePipeline
metadata: {name: stops}
steps:
  - id: look
    persona: navigator
    exec: {source: "Look"}
  - id: stop
    dependencies: [look]
    gate: {type: approval, auto: true, default: q, choices: [{key: q, label: Stop, target: _fail}]}
"""

CALLS_STOPS = """\
kind: WavePipeline
metadata: {name: calls-stops}
steps:
  - id: sub
    pipeline: stops
  - id: after
    persona: navigator
    dependencies: [sub]
    exec: {source: "After"}
"""


def test_a_gate_failing_the_run_inside_a_sub_pipeline_fails_the_run(tmp_path):
    # found by an attacker review: the child's gate is an optional step of the plan, so the run "completed"
    run = project_with_children(tmp_path, CALLS_STOPS, {"steps": {"sub.look": [say("looked")]}},
                                stops=STOPS).run()
    assert run.error is None, run.error
    assert run.result.status == "failed"
    assert run.record()["failure"] == "step sub.stop failed: auto-approved (auto: true): Stop (q); the run stops"
    assert run.states("after") == ["skipped"]


STOPS_AT_ONCE = """\
kind: WavePipeline
metadata: {name: stops-at-once}
steps:
  - id: sub
    pipeline: slow-to-load
  - id: stop
    gate: {type: approval, auto: true, default: q, choices: [{key: q, label: Stop, target: _fail}]}
"""

SLOW_TO_LOAD = """\
kind: WavePipeline
metadata: {name: slow-to-load}
requires: {tools: [git]}
steps:
  - id: a
    persona: navigator
    exec: {source: "A"}
"""


def test_a_sub_pipeline_step_whose_children_arrive_after_the_run_stopped_starts_none(tmp_path, monkeypatch):
    # found by an attacker review: a child still being set up (here: its preflight, made slow) when a gate's
    # _fail stopped the run handed its steps to the plan afterwards, and they ran
    monkeypatch.setattr(Preflight, "missing_for", lambda self, pipeline: (time.sleep(3), [])[1])
    run = project_with_children(tmp_path, STOPS_AT_ONCE, {"steps": {"sub.a": [say("a")]}},
                                **{"slow-to-load": SLOW_TO_LOAD}).run()
    assert run.error is None, run.error
    assert run.result.status == "failed"
    assert run.record()["failure"] == "step stop failed: auto-approved (auto: true): Stop (q); the run stops"
    assert "sub.a" not in run.started_steps()
    assert run.states("sub")[-1] == "failed"
