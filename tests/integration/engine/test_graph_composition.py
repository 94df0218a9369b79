"""Composition steps inside graph pipelines (edges), end to end on Docker with command steps (no model).

The rule (README, "Composition steps in graphs"): a composition step is one visit of its graph, whatever
depth the graph runs at; the graph moves on only once the step's children have finished, and every
visit runs a fresh child run whose step ids carry the visit (`sub.a`, then `sub.visit2.a`, ...). A gate
never moves a graph: validate refuses a choice naming a step that always ran before the gate.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import assert_run_left_nothing, run_cli
from tests.integration.scripted_runs import one_commit_repository

pytestmark = pytest.mark.docker

SMALL = """\
kind: WavePipeline
metadata: {name: small}
steps:
  - id: a
    type: command
    max_visits: 2
    script: "echo a"
    edges: [{target: b}]
  - id: b
    type: command
    max_visits: 2
    dependencies: [a]
    script: "echo b"
    edges: [{target: a}]
"""

OUTER = """\
kind: WavePipeline
metadata: {name: outer}
steps:
  - id: sub
    pipeline: small
    max_visits: 3
    edges: [{target: sub}]
"""

CALLS_OUTER = """\
kind: WavePipeline
metadata: {name: calls-outer}
steps:
  - id: o
    pipeline: outer
"""

TWO_STEPS = """\
kind: WavePipeline
metadata: {name: two-steps}
steps:
  - id: a
    type: command
    script: "echo a"
  - id: b
    type: command
    dependencies: [a]
    script: "echo b"
"""

VALIDATES_ITSELF = """\
kind: WavePipeline
metadata: {name: validates-itself}
steps:
  - id: sub
    pipeline: two-steps
    edges: [{target: route}]
  - id: route
    type: conditional
    edges: [{target: after, condition: "outcome=success"}, {target: _complete}]
  - id: after
    type: command
    script: "echo after"
"""

EVERY_KIND = """\
kind: WavePipeline
metadata: {name: every-kind}
steps:
  - id: fan
    pipeline: two-steps
    iterate: {over: '["x", "y"]', mode: parallel, max_concurrent: 2}
    max_visits: 2
    edges: [{target: again}]
  - id: again
    loop: {max_iterations: 2, steps: [{id: twice, pipeline: two-steps}]}
    edges: [{target: pick}]
  - id: pick
    branch: {on: big, cases: {big: two-steps}}
    edges: [{target: fan}]
"""

GOES_BACK = """\
kind: WavePipeline
metadata: {name: goes-back}
steps:
  - id: draft
    type: command
    script: "echo draft"
    edges: [{target: ask}]
  - id: ask
    dependencies: [draft]
    gate: {type: approval, auto: true, default: a, choices: [{key: a, label: Again, target: draft}]}
"""


def repository_with_children(base: Path) -> Path:
    repo = one_commit_repository(base / "service")
    folder = repo / ".wave" / "pipelines"
    folder.mkdir(parents=True)
    for name, text in {"small": SMALL, "outer": OUTER, "two-steps": TWO_STEPS}.items():
        (folder / f"{name}.yaml").write_text(text)
    return repo


def run_json(tmp_path: Path, repo: Path, text: str) -> tuple[object, list[dict]]:
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(text)
    completed = run_cli("run", str(pipeline), "x", "--repo", str(repo), "--model", "mock", "--json",
                        "--output", str(tmp_path / "out"), cwd=tmp_path)
    events = [json.loads(line) for line in completed.stdout.splitlines()]
    return completed, events


def finished_visits(events: list[dict], step_id: str) -> list[int]:
    """Where each visit of a composition step ended (its completed or failed event with a duration)."""
    return [index for index, e in enumerate(events) if e["step_id"] == step_id
            and e["state"] in ("completed", "failed") and e.get("duration_ms") is not None]


def last_event_of(events: list[dict], prefix: str) -> int:
    """The last event of a step of the child run under `prefix` (its own steps, not a later visit's)."""
    return max(index for index, e in enumerate(events) if (e["step_id"] or "").rpartition(".")[0] == prefix)


def assert_each_visit_ended_after_its_own_children(events: list[dict], step_id: str, prefixes: list[str]) -> None:
    ends = finished_visits(events, step_id)
    assert len(ends) == len(prefixes), ends
    for end, prefix in zip(ends, prefixes):
        assert last_event_of(events, prefix) < end, f"{step_id} ended before the children of {prefix}"


def assert_clean(completed) -> None:
    output = completed.stdout + completed.stderr
    assert "Traceback" not in output and "KeyError" not in output and "not supported" not in output, output


def test_a_graph_at_the_top_runs_a_fresh_child_on_each_visit_of_its_sub_pipeline_step(tmp_path, agent_image, docker):
    repo = repository_with_children(tmp_path)
    (tmp_path / "top.yaml").write_text(OUTER.replace("name: outer", "name: top"))
    assert run_cli("validate", str(tmp_path / "top.yaml"), "--repo", str(repo), cwd=tmp_path).returncode == 0
    completed, events = run_json(tmp_path, repo, OUTER.replace("name: outer", "name: top"))
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert_clean(completed)
    started = [e["step_id"] for e in events if e["state"] == "started"]
    visits = ["sub", "sub.visit2", "sub.visit3"]
    assert started == [step for prefix in visits for step in ["sub"] + [f"{prefix}.{s}" for s in "abab"]]
    assert_each_visit_ended_after_its_own_children(events, "sub", visits)
    assert {e.get("label") for e in events if e["step_id"] == "sub.visit2.a"} == {"sub#2/a"}
    assert events[-1]["state"] == "run_failed"
    # the third visit fails as the first two did: Wave's circuit breaker stops the graph (its cap, 3, too)
    assert events[-1]["message"] == (
        "step sub failed: step sub failed 3 times with the same error; the graph stops (Wave's circuit breaker): "
        "sub-pipeline small failed: step sub.visit3.a: step sub.visit3.a reached its max_visits (2); the graph stops")
    run = json.loads((repo / ".wave" / "runs" / events[0]["run_id"] / "run.json").read_text())
    assert run["graph"]["visits"] == {"sub": 3} and set(run["graphs"]) == set(visits)
    assert_run_left_nothing(docker, events[0]["run_id"])


def test_a_graph_sub_pipeline_runs_its_own_sub_pipeline_step_as_one_visit_each_time(tmp_path, agent_image, docker):
    repo = repository_with_children(tmp_path)
    completed, events = run_json(tmp_path, repo, CALLS_OUTER)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert_clean(completed)
    visits = ["o.sub", "o.sub.visit2", "o.sub.visit3"]
    grandchildren = [e["step_id"] for e in events if e["state"] == "started" and e["step_id"].count(".") >= 2]
    assert grandchildren == [f"{prefix}.{s}" for prefix in visits for s in "abab"]
    assert_each_visit_ended_after_its_own_children(events, "o.sub", visits)
    parent_failed = next(i for i, e in enumerate(events) if e["step_id"] == "o" and e["state"] == "failed")
    assert not [e for e in events[parent_failed:] if e["state"] == "started"], "a step started after its parent failed"
    assert events[-1]["message"].startswith(
        "step o failed: sub-pipeline outer failed: step o.sub: step o.sub failed 3 times with the same error; "
        "the graph stops (Wave's circuit breaker): sub-pipeline small failed: step o.sub.visit3.a:"), events[-1]["message"]
    assert_run_left_nothing(docker, events[0]["run_id"])


def test_a_graph_runs_its_sub_pipeline_step_to_the_end_and_goes_on(tmp_path, agent_image, docker):
    repo = repository_with_children(tmp_path)
    completed, events = run_json(tmp_path, repo, VALIDATES_ITSELF)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    started = [e["step_id"] for e in events if e["state"] == "started"]
    assert started == ["sub", "sub.a", "sub.b", "route", "after"]
    assert_each_visit_ended_after_its_own_children(events, "sub", ["sub"])
    assert events[-1]["state"] == "run_completed"
    assert_run_left_nothing(docker, events[0]["run_id"])


def test_an_iterate_a_loop_and_a_branch_in_a_graph_run_fresh_children_on_every_visit(tmp_path, agent_image, docker):
    repo = repository_with_children(tmp_path)
    completed, events = run_json(tmp_path, repo, EVERY_KIND)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert_clean(completed)
    started = {e["step_id"] for e in events if e["state"] == "started"}
    for first, second in [("fan.1.a", "fan.visit2.1.a"), ("again.2.twice.b", "again.visit2.2.twice.b"),
                          ("pick.b", "pick.visit2.b")]:
        assert first in started and second in started, sorted(started)
    assert_each_visit_ended_after_its_own_children(events, "pick", ["pick", "pick.visit2"])
    assert events[-1]["message"] == "step fan failed: step fan reached its max_visits (2); the graph stops"
    assert_run_left_nothing(docker, events[0]["run_id"])


MARKED = """\
kind: WavePipeline
metadata: {name: marked}
steps:
  - id: a
    type: command
    script: "echo a"
  - id: b
    type: command
    dependencies: [a]
    workspace: {mount: [{source: ./, target: /src, mode: readwrite}]}
    script: "test ! -f marker"
"""

TWICE = """\
kind: WavePipeline
metadata: {name: twice}
steps:
  - id: sub
    pipeline: marked
  - id: mark
    type: command
    dependencies: [sub]
    workspace: {mount: [{source: ./, target: /src, mode: readwrite}]}
    script: "if [ -f marker ]; then exit 1; fi; touch marker"
    edges: [{target: sub, condition: "outcome=success"}, {target: _complete}]
"""


def test_resume_of_a_graph_stopped_in_a_later_visits_child_runs_only_what_did_not_finish(tmp_path, agent_image, docker):
    repo = repository_with_children(tmp_path)
    child = repo / ".wave" / "pipelines" / "marked.yaml"
    child.write_text(MARKED)  # its step b fails once `mark` has left a marker in the clone: in sub's visit 2
    first, events = run_json(tmp_path, repo, TWICE)
    assert first.returncode == 1, first.stdout + first.stderr
    assert events[-1]["message"] == ("step sub failed: sub-pipeline marked failed: step sub.visit2.b: "
                                     "command exited with status 1:")
    run_id = events[0]["run_id"]
    assert json.loads((repo / ".wave" / "runs" / run_id / "run.json").read_text())["graph"]["current"] == "sub"
    child.write_text(MARKED.replace("test ! -f marker", "test -f marker"))
    resumed = run_cli("resume", run_id, "--repo", str(repo), "--json", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    started = [e["step_id"] for e in map(json.loads, resumed.stdout.splitlines()) if e["state"] == "started"]
    assert started == ["sub", "sub.visit2.b", "mark"]  # sub.visit2.a finished in the first attempt
    assert_run_left_nothing(docker, run_id)


SENT_BACK = """\
kind: WavePipeline
metadata: {name: sent-back}
steps:
  - id: sub
    pipeline: two-steps
  - id: ask
    dependencies: [sub]
    gate: {type: approval, auto: true, default: a, choices: [{key: a, label: Again, target: sub}]}
"""


def test_a_gate_sending_a_dag_back_to_a_sub_pipeline_step_runs_a_fresh_child_each_time(tmp_path, agent_image, docker):
    # the same rule outside graphs: each start of a composition step is a fresh child run
    repo = repository_with_children(tmp_path)
    completed, events = run_json(tmp_path, repo, SENT_BACK)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert_clean(completed)
    children = [e["step_id"] for e in events if e["state"] == "started" and e["step_id"].endswith(".a")]
    assert children == ["sub.a"] + [f"sub.visit{n}.a" for n in range(2, 12)]
    assert events[-1]["message"] == "step ask failed: auto-approved (auto: true): Again (a); sub was sent back 10 times already"
    assert_run_left_nothing(docker, events[0]["run_id"])


def test_a_gate_that_would_send_a_graph_back_is_refused_before_anything_starts(tmp_path, agent_image):
    repo = repository_with_children(tmp_path)
    completed, events = run_json(tmp_path, repo, GOES_BACK)
    assert completed.returncode == 2 and events == []
    [line] = completed.stderr.strip().splitlines()
    assert line.endswith("steps[1] (ask): gate.choices[0]: target 'draft' has always run before this gate, and in a "
                         "graph pipeline only edges go back to a step that ran: route back with an edge")
    assert not (repo / ".wave" / "runs").exists()


FAILS_ALIKE = """\
kind: WavePipeline
metadata: {name: fails-alike}
steps:
  - id: build
    type: command
    max_visits: 10
    script: "echo \\"cc: fatal error: missing.h\\" >&2; exit 1"
    edges: [{target: build, condition: outcome=failure}, {target: _complete}]
"""


def test_a_step_failing_three_times_with_the_same_error_stops_the_graph(tmp_path, agent_image, docker):
    """Wave's circuit breaker: the third like failure ends the run, long before max_visits (10)."""
    repo = one_commit_repository(tmp_path / "service")
    completed, events = run_json(tmp_path, repo, FAILS_ALIKE)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert_clean(completed)
    assert [e["step_id"] for e in events if e["state"] == "started"] == ["build"] * 3
    assert events[-1]["state"] == "run_failed"
    assert "step build failed 3 times with the same error; the graph stops (Wave's circuit breaker)" in events[-1]["message"]
    assert "missing.h" in events[-1]["message"]
    assert_run_left_nothing(docker, events[0]["run_id"])
