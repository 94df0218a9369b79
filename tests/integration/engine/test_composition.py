"""Composition end to end: sub-pipelines, iterate (with resume in the middle), aggregate, gates, loops.

Real daemon, real containers, real git repositories; only the model is scripted. Child pipelines live
in the repository's `.wave/pipelines`, where a sub-pipeline's name is looked up.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from tests.graph_pipelines import HARDENING, PUBLISHING
from tests.integration.conftest import assert_run_left_nothing, run_cli
from tests.integration.scripted_runs import bash, one_commit_repository, say, write_pipeline
from tests.integration.scripted_runs import write_file as write

pytestmark = pytest.mark.docker

CHILD = """\
kind: WavePipeline
metadata: {name: audit-one}
steps:
  - id: check
    persona: navigator
    exec: {source: "Check {{ input }}"}
    output_artifacts: [{name: result, path: output/result.json, type: json}]
"""

SUB_PIPELINE = """\
kind: WavePipeline
metadata: {name: parent}
steps:
  - id: audit
    pipeline: audit-one
    input: "the area {{ input }}"
  - id: report
    persona: summarizer
    dependencies: [audit]
    memory: {inject_artifacts: [{step: audit, artifact: result, as: findings}]}
    exec: {source: "Report"}
    output_artifacts: [{name: report, path: output/report.md}]
"""

FAN_OUT = """\
kind: WavePipeline
metadata: {name: fanout}
steps:
  - id: fetch
    persona: navigator
    exec: {source: "List the areas"}
    output_artifacts: [{name: areas, path: output/areas.json, type: json}]
  - id: fan
    dependencies: [fetch]
    pipeline: audit-one
    input: "area {{ item.area }}"
    iterate: {over: "{{ fetch.out.areas.areas }}", mode: parallel, max_concurrent: 2}
  - id: merge
    dependencies: [fan]
    aggregate: {from: "{{ fan.output }}", into: .agents/output/merged.json, strategy: merge_arrays}
  - id: report
    persona: summarizer
    dependencies: [merge]
    memory: {inject_artifacts: [{step: merge, artifact: merged, as: merged}]}
    exec: {source: "Report"}
    output_artifacts: [{name: report, path: output/report.md}]
"""

AREAS = ["orders", "payments", "search", "users"]


def checked(area: str, delay_s: float = 0) -> list:
    turn = [write("output/result.json", json.dumps([{"area": area, "ok": True}]))]
    return [{"delay_s": delay_s, "content": turn} if delay_s else turn, say(f"checked {area}")]


def repository_with_child(base: Path) -> Path:
    repo = one_commit_repository(base / "service")
    (repo / ".wave" / "pipelines").mkdir(parents=True)
    (repo / ".wave" / "pipelines" / "audit-one.yaml").write_text(CHILD)
    return repo


def assert_runs_left_nothing(docker, repo: Path, timeout_s: float = 15.0) -> None:
    """Nothing of this repository's runs remains: no container, volume or gateway socket folder (nor a
    network or firewall rule, which only earlier versions made); other helpers' runs may have some."""
    run_ids = [folder.name for folder in (repo / ".wave" / "runs").iterdir() if folder.is_dir()]
    assert run_ids, "no run recorded"
    assert_run_left_nothing(docker, *run_ids, timeout_s=timeout_s)


def json_events(completed) -> list[dict]:
    return [json.loads(line) for line in completed.stdout.splitlines()]


def conversations(record: Path, step_id: str) -> int:
    path = record / "steps" / step_id / "transcript.jsonl"
    exchanges = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return sum(1 for exchange in exchanges if len(exchange["request"]["messages"]) == 1)


def test_a_sub_pipelines_artifacts_reach_the_parents_next_step(tmp_path, agent_image, docker):
    repo = repository_with_child(tmp_path)
    script = {"steps": {"audit.check": checked("orders"),
                        "report": [[bash("cat /wave/artifacts/findings > output/report.md")], say("reported")]}}
    pipeline, script_file = write_pipeline(tmp_path, SUB_PIPELINE, script)
    common = ("--repo", str(repo), "--model", f"scripted:{script_file}", "--output", str(tmp_path / "out"))
    console = run_cli("run", str(pipeline), "orders", *common, cwd=tmp_path)
    assert console.returncode == 0, console.stdout + console.stderr
    assert json.loads((tmp_path / "out" / "report.md").read_text()) == [{"area": "orders", "ok": True}]
    assert " audit/check " in console.stdout and "running sub-pipeline audit-one" in console.stdout
    run_id = next(p.name for p in (repo / ".wave" / "runs").iterdir() if p.is_dir())
    record = repo / ".wave" / "runs" / run_id
    prompt = json.loads((record / "steps" / "audit.check" / "step.json").read_text())["prompt"]
    assert "Check the area orders" in prompt  # the step's input template became the child's input
    run = json.loads((record / "run.json").read_text())
    assert run["steps"]["audit"]["children"] == ["audit.check"] and run["steps"]["audit"]["status"] == "completed"
    events = json_events(run_cli("run", str(pipeline), "orders", *common, "--json", cwd=tmp_path))
    child = next(e for e in events if e["step_id"] == "audit.check" and e["state"] == "completed")
    assert child["label"] == "audit/check" and "label" not in events[0]
    assert_runs_left_nothing(docker, repo)


SCOPING_CHILD = """\
kind: WavePipeline
metadata: {name: scoping}
pipeline_outputs:
  plan: {step: plan, artifact: plan, type: scope_result}
steps:
  - id: assess
    persona: navigator
    exec: {source: "Assess"}
    output_artifacts: [{name: assessment, path: output/assessment.json, type: json}]
  - id: plan
    persona: navigator
    dependencies: [assess]
    exec: {source: "Plan"}
    output_artifacts: [{name: plan, path: output/plan.json, type: json}]
"""

EPIC = """\
kind: WavePipeline
metadata: {name: epic}
steps:
  - id: scope
    pipeline: scoping
  - id: each
    dependencies: [scope]
    pipeline: audit-one
    iterate: {over: "{{ scope.output.items }}", mode: sequential}
    input: "{{scope.output.parent.repository}} {{item.number}}"
  - id: none
    dependencies: [scope]
    pipeline: audit-one
    iterate: {over: "{{ scope.output.leftovers }}"}
"""


def test_a_sub_pipeline_steps_output_fields_come_from_its_childs_artifacts(tmp_path, agent_image, docker):
    """`{{ scope.output.items }}` is read from the child's artifact that has `items` (its pipeline_outputs
    first), not only from its first one; an empty list is iterated over as zero items."""
    repo = repository_with_child(tmp_path)
    (repo / ".wave" / "pipelines" / "scoping.yaml").write_text(SCOPING_CHILD)
    plan = {"parent": {"repository": "acme/shop"}, "items": [{"number": 7}, {"number": 9}], "leftovers": []}
    script = {"steps": {"scope.assess": [[write("output/assessment.json", '{"epic": 1}')], say("assessed")],
                        "scope.plan": [[write("output/plan.json", json.dumps(plan))], say("planned")],
                        "each.1.check": checked("7"), "each.2.check": checked("9")}}
    pipeline, script_file = write_pipeline(tmp_path, EPIC, script)
    completed = run_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
                        "--output", str(tmp_path / "out"), "--json", cwd=tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    events = json_events(completed)
    record = repo / ".wave" / "runs" / events[0]["run_id"]
    prompts = [json.loads((record / "steps" / f"each.{n}.check" / "step.json").read_text())["prompt"] for n in (1, 2)]
    assert "Check acme/shop 7" in prompts[0] and "Check acme/shop 9" in prompts[1]
    none = next(e for e in events if e["step_id"] == "none" and e["state"] == "completed")
    assert none["message"] == "all 0 items completed"
    assert json.loads((record / "steps" / "none" / "artifacts" / "none-collected.json").read_text()) == []
    run = json.loads((record / "run.json").read_text())
    assert list(run["steps"]["scope"].get("children", [])) == ["scope.assess", "scope.plan"]
    assert_runs_left_nothing(docker, repo)


BRIEFED_CHILD = """\
kind: WavePipeline
metadata: {name: briefed}
steps:
  - id: read
    persona: navigator
    memory: {inject_artifacts: [{pipeline: with-brief, artifact: brief, as: brief}]}
    exec: {source: "Read the brief"}
    output_artifacts: [{name: notes, path: output/notes.md}]
"""

WITH_BRIEF = """\
kind: WavePipeline
metadata: {name: with-brief}
steps:
  - id: brief
    persona: navigator
    exec: {source: "Brief"}
    output_artifacts: [{name: brief, path: output/brief.md}]
  - id: sub
    dependencies: [brief]
    pipeline: briefed
"""


def test_a_sub_pipeline_injects_its_parents_artifact_by_pipeline_name(tmp_path, agent_image, docker):
    repo = repository_with_child(tmp_path)
    (repo / ".wave" / "pipelines" / "briefed.yaml").write_text(BRIEFED_CHILD)
    script = {"steps": {"brief": [[write("output/brief.md", "the brief")], say("briefed")],
                        "sub.read": [[bash("cp /wave/artifacts/brief output/notes.md")], say("read")]}}
    pipeline, script_file = write_pipeline(tmp_path, WITH_BRIEF, script)
    common = ("--repo", str(repo), "--model", f"scripted:{script_file}", "--output", str(tmp_path / "out"))
    completed = run_cli("run", str(pipeline), *common, cwd=tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert (tmp_path / "out" / "notes.md").read_text() == "the brief"
    alone = run_cli("run", "briefed", *common, cwd=tmp_path)  # on its own, there is no parent to inject from
    assert alone.returncode == 1 and "injects artifact 'brief' of pipeline with-brief, which exists only when" in alone.stdout
    assert_runs_left_nothing(docker, repo)


@pytest.fixture(scope="module")
def fan_out(tmp_path_factory, agent_image, docker):
    """Four items two at a time; the third fails the first run, `resume` finishes it."""
    base = tmp_path_factory.mktemp("fanout")
    repo = repository_with_child(base)
    fetch = [[write("output/areas.json", json.dumps({"areas": [{"area": a} for a in AREAS]}))], say("listed")]
    steps = {"fetch": fetch, "report": [[bash("cat /wave/artifacts/merged > output/report.md")], say("reported")]}
    for number, area in enumerate(AREAS, 1):
        steps[f"fan.{number}.check"] = checked(area, delay_s=2)
    broken = {**steps, "fan.3.check": [[write("output/result.json", "not json")], say("broken")]}
    pipeline, script = write_pipeline(base, FAN_OUT, {"steps": broken})
    fixed = base / "fixed.yaml"
    fixed.write_text(yaml.safe_dump({"steps": steps}, sort_keys=False))
    first = run_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script}", "--json",
                    "--max-parallel", "4", "--output", str(base / "out"), cwd=base)
    run_id = json_events(first)[0]["run_id"]
    resumed = run_cli("resume", run_id, "--repo", str(repo), "--model", f"scripted:{fixed}", "--json", cwd=base)
    return {"first": first, "resumed": resumed, "record": repo / ".wave" / "runs" / run_id, "out": base / "out",
            "repo": repo}


def test_iterate_runs_four_items_two_at_a_time(fan_out):
    events = json_events(fan_out["first"])
    spans = {}
    for event in events:
        if event["step_id"] and event["step_id"].endswith(".check") and event["state"] in ("started", "completed", "failed"):
            spans.setdefault(event["step_id"], []).append(datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")))
    assert sorted(spans) == [f"fan.{n}.check" for n in range(1, 5)]
    moments = sorted({moment for span in spans.values() for moment in span})
    overlaps = [sum(1 for start, end in spans.values() if start <= moment < end) for moment in moments]
    assert max(overlaps) == 2, overlaps  # --max-parallel 4 would allow four; max_concurrent holds them to two
    labels = {e["label"] for e in events if e.get("label")}
    assert {"fan[1/4]/check", "fan[4/4]/check"} <= labels
    iterating = next(e for e in events if e["state"] == "iterating")
    assert iterating["message"] == "iterating over 4 items, 2 at a time"


def test_a_failed_item_fails_the_iterate_with_one_line(fan_out):
    first = fan_out["first"]
    assert first.returncode == 1
    final = json_events(first)[-1]
    assert final["state"] == "run_failed"
    assert final["message"].startswith("step fan failed: item 3 (audit-one): step fan.3.check: ")
    assert "Traceback" not in first.stderr


def test_resume_in_the_middle_of_an_iterate_runs_only_the_unfinished_item(fan_out):
    resumed, record = fan_out["resumed"], fan_out["record"]
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    started = [e["step_id"] for e in json_events(resumed) if e["state"] == "started"]
    assert "fan.3.check" in started and not {"fetch", "fan.1.check", "fan.2.check", "fan.4.check"} & set(started)
    assert conversations(record, "fan.1.check") == 1 and conversations(record, "fan.3.check") >= 2
    merged = json.loads((record / "steps" / "merge" / "artifacts" / "merged.json").read_text())
    assert merged == [{"area": area, "ok": True} for area in AREAS]
    assert json.loads((fan_out["out"] / "report.md").read_text()) == merged
    collected = json.loads((record / "steps" / "fan" / "artifacts" / "fan-collected.json").read_text())
    assert collected == [[entry] for entry in merged]


def test_the_fan_out_leaves_no_docker_objects(fan_out, docker):
    assert_runs_left_nothing(docker, fan_out["repo"])


GATED = """\
kind: WavePipeline
metadata: {name: gated}
steps:
  - id: plan
    persona: navigator
    exec: {source: "Plan"}
    output_artifacts: [{name: plan, path: output/plan.md}]
  - id: approve
    dependencies: [plan]
    gate: {type: approval, prompt: "Ship the plan?"}
  - id: ship
    persona: summarizer
    dependencies: [approve]
    memory: {inject_artifacts: [{step: plan, artifact: plan, as: plan}]}
    exec: {source: "Ship"}
    output_artifacts: [{name: shipped, path: output/shipped.md}]
"""


def test_a_gate_is_approved_by_flag_and_refused_when_unattended(tmp_path, agent_image, docker):
    repo = one_commit_repository(tmp_path / "service")
    script = {"steps": {"plan": [[write("output/plan.md", "# plan")], say("planned")],
                        "ship": [[bash("cp /wave/artifacts/plan output/shipped.md")], say("shipped")]}}
    pipeline, script_file = write_pipeline(tmp_path, GATED, script)
    common = ("--repo", str(repo), "--model", f"scripted:{script_file}", "--output", str(tmp_path / "out"))
    refused = run_cli("run", str(pipeline), *common, cwd=tmp_path)
    assert refused.returncode == 1
    assert "gate_waiting approve" in refused.stdout and "Ship the plan?" in refused.stdout
    assert ("step approve failed: gate approve needs approval and no terminal is attached; "
            "pass --approve approve or --auto-approve to approve it unattended") in refused.stdout
    assert " skipped   ship " in refused.stdout and "Traceback" not in refused.stderr
    approved = run_cli("run", str(pipeline), *common, "--approve", "approve", "--json", cwd=tmp_path)
    assert approved.returncode == 0, approved.stdout + approved.stderr
    gate = next(e for e in json_events(approved) if e["step_id"] == "approve" and e["state"] == "completed")
    assert gate["message"] == "approved by --approve approve" and gate["persona"] == "gate"
    assert (tmp_path / "out" / "shipped.md").read_text() == "# plan"
    assert_runs_left_nothing(docker, repo)


LOOPED = """\
kind: WavePipeline
metadata: {name: looped}
steps:
  - id: polish
    pipeline: audit-one
    loop: {max_iterations: 3, until: "{{ check.out.result.0.done }}"}
"""


def test_a_loop_stops_at_its_cap_with_one_line(tmp_path, agent_image, docker):
    repo = repository_with_child(tmp_path)
    never_done = [[write("output/result.json", json.dumps([{"done": False}]))], say("not yet")]
    script = {"steps": {f"polish.{n}.check": never_done for n in (1, 2, 3, 4)}}
    pipeline, script_file = write_pipeline(tmp_path, LOOPED, script)
    completed = run_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
                        "--output", str(tmp_path / "out"), cwd=tmp_path)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    ran = [line for line in lines if " completed polish[" in line]
    assert [line.split()[2] for line in ran] == [f"polish[{n}/3]/check" for n in (1, 2, 3)]
    assert sum("loop stopped at its cap: 3 iterations" in line for line in lines) == 1
    assert "loop_iteration polish" in completed.stdout
    assert_runs_left_nothing(docker, repo)


def test_an_edges_graph_revisits_a_step_and_stops_at_max_visits(tmp_path, agent_image, docker):
    repo = one_commit_repository(tmp_path / "service")
    patch = [[write("output/patch.md", "patched")], say("patched")]
    script = {"steps": {"fix": patch * 3}}  # `test` never writes its verdict: it fails on every visit
    pipeline, script_file = write_pipeline(tmp_path, HARDENING, script)
    completed = run_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
                        "--output", str(tmp_path / "out"), "--json", cwd=tmp_path)
    assert completed.returncode == 1
    events = json_events(completed)
    visits = [(e["state"], e["step_id"]) for e in events if e["state"] in ("started", "completed", "failed")]
    assert visits == [("started", "fix"), ("completed", "fix"), ("started", "test"), ("failed", "test"),
                      ("started", "fix"), ("completed", "fix"), ("started", "test"), ("failed", "test"),
                      ("failed", "fix")]
    assert next(e for e in events if e["state"] == "failed" and e["step_id"] == "fix")["message"] == \
        "step fix reached its max_visits (2); the graph stops"
    assert events[-2]["state"] == "skipped" and events[-2]["message"] == "not on the graph's path"
    assert events[-1]["message"] == "step fix failed: step fix reached its max_visits (2); the graph stops"
    record = repo / ".wave" / "runs" / events[0]["run_id"]
    run = json.loads((record / "run.json").read_text())
    assert run["graph"]["visits"] == {"fix": 2, "test": 2} and run["steps"]["done"]["status"] == "skipped"
    assert conversations(record, "fix") == 2
    assert_runs_left_nothing(docker, repo)


CALLS_HARDENING = """\
kind: WavePipeline
metadata: {name: calls-hardening}
steps:
  - id: harden
    pipeline: hardening
  - id: report
    persona: summarizer
    dependencies: [harden]
    exec: {source: "Report"}
"""


def test_a_graph_pipeline_runs_as_a_sub_pipeline_and_stops_at_max_visits(tmp_path, agent_image, docker):
    repo = repository_with_child(tmp_path)
    (repo / ".wave" / "pipelines" / "hardening.yaml").write_text(HARDENING)
    patch = [[write("output/patch.md", "patched")], say("patched")]
    pipeline, script_file = write_pipeline(tmp_path, CALLS_HARDENING, {"steps": {"harden.fix": patch * 3}})
    completed = run_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
                        "--output", str(tmp_path / "out"), "--json", cwd=tmp_path)
    assert completed.returncode == 1 and "Traceback" not in completed.stderr
    events = json_events(completed)
    visits = [(e["state"], e["step_id"]) for e in events
              if e["state"] in ("started", "completed", "failed") and e["step_id"].startswith("harden.")]
    assert visits == [("started", "harden.fix"), ("completed", "harden.fix"), ("started", "harden.test"),
                      ("failed", "harden.test"), ("started", "harden.fix"), ("completed", "harden.fix"),
                      ("started", "harden.test"), ("failed", "harden.test"), ("failed", "harden.fix")]
    assert events[-1]["message"] == ("step harden failed: sub-pipeline hardening failed: step harden.fix: "
                                     "step harden.fix reached its max_visits (2); the graph stops")
    record = repo / ".wave" / "runs" / events[0]["run_id"]
    run = json.loads((record / "run.json").read_text())
    assert run["graphs"]["harden"]["visits"] == {"harden.fix": 2, "harden.test": 2}
    assert run["steps"]["harden.done"]["status"] == "skipped" and run["steps"]["report"]["status"] == "skipped"
    assert conversations(record, "harden.fix") == 2
    assert_runs_left_nothing(docker, repo)


def test_resume_in_the_middle_of_a_graph_goes_on_from_where_it_stopped(tmp_path, agent_image, docker):
    repo = one_commit_repository(tmp_path / "service")
    steps = {"draft": [[write("output/draft.md", "d")], say("drafted")],
             "review": [[write("output/review.md", "ok")], say("reviewed")]}
    pipeline, script_file = write_pipeline(tmp_path, PUBLISHING, {"steps": steps})
    first = run_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
                    "--output", str(tmp_path / "out"), "--json", cwd=tmp_path)
    assert first.returncode == 1  # publish writes nothing: a failure without edges ends the graph
    run_id = json_events(first)[0]["run_id"]
    record = repo / ".wave" / "runs" / run_id
    assert json.loads((record / "run.json").read_text())["graph"]["current"] == "publish"
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(yaml.safe_dump({"steps": {"publish": [[write("output/published.md", "live")], say("published")]}}))
    resumed = run_cli("resume", run_id, "--repo", str(repo), "--model", f"scripted:{fixed}", "--json", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    started = [e["step_id"] for e in json_events(resumed) if e["state"] == "started"]
    assert started == ["publish"]  # its one visit (max_visits: 1) is the one the first run began
    assert conversations(record, "draft") == 1 and conversations(record, "review") == 1
    assert (tmp_path / "out" / "published.md").read_text() == "live"
    assert_runs_left_nothing(docker, repo)
