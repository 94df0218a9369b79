"""Pure planning of composition: children joining the plan, a fan-out's limit, the graph planner, values."""

from __future__ import annotations

import io
import threading

import pytest

from wave_sandbox.engine import composition_values as values
from wave_sandbox.engine.gates import GateKeeper, GateSettings
from wave_sandbox.engine.graph_plan import GraphPlan
from wave_sandbox.engine.planner import Plan, PlannedStep, StepState
from wave_sandbox.errors import CompositionError
from wave_sandbox.spec.composition import GateConfig
from wave_sandbox.spec.models import Step


def fan_out_plan(limit: int) -> Plan:
    plan = Plan([PlannedStep("fan")])
    children = [PlannedStep(f"fan.{n}.{s}", (f"fan.{n}.a",) if s == "b" else (), group="fan", member=f"fan.{n}")
                for n in range(1, 5) for s in ("a", "b")]
    plan.add_steps(children, before="fan")
    plan.group_limits["fan"] = limit
    plan.replace_step(PlannedStep("fan", waits_for=tuple(child.id for child in children)))
    return plan


def test_a_fan_out_starts_only_as_many_members_as_its_limit():
    plan = fan_out_plan(2)
    assert plan.ready_steps() == ["fan.1.a", "fan.2.a"]
    for step_id in ("fan.1.a", "fan.2.a"):
        plan.mark_running(step_id)
    plan.mark_completed("fan.1.a")
    assert plan.ready_steps() == ["fan.1.b"]  # item 1 keeps its slot between its steps
    plan.mark_running("fan.1.b")
    plan.mark_completed("fan.1.b")
    assert plan.ready_steps() == ["fan.3.a"]


def test_the_composition_step_waits_for_every_child_however_it_ended():
    plan = fan_out_plan(4)
    for number in range(1, 5):
        plan.mark_running(f"fan.{number}.a")
        skipped = plan.mark_failed(f"fan.{number}.a")
        assert skipped == [f"fan.{number}.b"]
    assert plan.ready_steps() == ["fan"]


def test_children_completed_in_an_earlier_attempt_are_not_run_again():
    plan = Plan([PlannedStep("sub")], already_completed=frozenset({"sub.a"}))
    plan.add_steps([PlannedStep("sub.a"), PlannedStep("sub.b", ("sub.a",))], before="sub")
    assert plan.states["sub.a"] is StepState.COMPLETED and plan.ready_steps() == ["sub.b", "sub"]


def graph(*raw: dict) -> list[Step]:
    return [Step.model_validate(step) for step in raw]


LOOPING = graph(
    {"id": "fix", "persona": "navigator", "max_visits": 2},
    {"id": "test", "persona": "navigator", "dependencies": ["fix"],
     "edges": [{"target": "done", "condition": "outcome=success"}, {"target": "fix", "condition": "outcome=failure"}]},
    {"id": "done", "persona": "navigator", "dependencies": ["test"]},
)


def walk(plan: GraphPlan, outcomes: list[tuple[str, bool]]) -> None:
    for step_id, succeeded in outcomes:
        assert plan.ready_steps() == [step_id]
        plan.mark_running(step_id)
        plan.mark_completed(step_id) if succeeded else plan.mark_failed(step_id)


def test_the_graph_follows_a_failure_edge_back_and_stops_at_max_visits():
    plan = GraphPlan(LOOPING, None)
    walk(plan, [("fix", True), ("test", False), ("fix", True), ("test", False)])
    assert plan.stopped == ("fix", "step fix reached its max_visits (2); the graph stops")
    assert plan.is_finished() and plan.failed_required_steps() == ["fix"]
    assert plan.visits == {"fix": 2, "test": 2} and plan.states["done"] is StepState.SKIPPED


def test_the_graph_ends_well_when_the_success_edge_is_taken():
    plan = GraphPlan(LOOPING, None)
    walk(plan, [("fix", True), ("test", False), ("fix", True), ("test", True), ("done", True)])
    assert plan.is_finished() and plan.failed_required_steps() == []


def test_max_step_visits_caps_the_whole_graph():
    plan = GraphPlan(LOOPING, 3)
    walk(plan, [("fix", True), ("test", False), ("fix", True)])
    assert plan.stopped == ("test", "the graph reached max_step_visits (3); it stops")


def test_a_graph_resumes_where_it_stopped_with_its_visit_counts():
    plan = GraphPlan(LOOPING, None)
    walk(plan, [("fix", True), ("test", False)])
    snapshot = plan.snapshot()
    assert snapshot == {"current": "fix", "visits": {"fix": 2, "test": 1}, "deferred": [], "last_outcome": "failure",
                        "stopped": None}
    resumed = GraphPlan(LOOPING, None, snapshot)
    walk(resumed, [("fix", True), ("test", False)])
    assert resumed.stopped[0] == "fix"  # the visit counted before the stop is not given back


def test_a_graph_a_cap_stopped_stops_again_when_resumed():
    # Wave's resume restores the visit counts and walks into the same cap; resuming must not "complete" it
    plan = GraphPlan(LOOPING, None)
    walk(plan, [("fix", True), ("test", False), ("fix", True), ("test", False)])
    resumed = GraphPlan(LOOPING, None, plan.snapshot())
    assert resumed.ready_steps() == [] and resumed.is_finished()
    assert resumed.stopped == plan.stopped and resumed.failed_required_steps() == ["fix"]
    assert resumed.states["done"] is StepState.SKIPPED


RETRYING = graph(
    {"id": "build", "persona": "navigator", "max_visits": 10,
     "edges": [{"target": "build", "condition": "outcome=failure"}, {"target": "_complete"}]},
)


def fail_build(plan: GraphPlan, error: str) -> None:
    assert plan.ready_steps() == ["build"]
    plan.mark_running("build")
    plan.mark_failed("build", error)


def test_the_same_error_three_times_stops_the_graph():
    # Wave's circuit breaker: compared without indentation or blank lines, well before max_visits (10)
    plan = GraphPlan(RETRYING, None)
    for error in ("make: *** [all] Error 2\n  cc: fatal", "make: *** [all] Error 2\n\ncc: fatal", "make: *** [all] Error 2\ncc: fatal"):
        fail_build(plan, error)
    assert plan.stopped == ("build", "step build failed 3 times with the same error; the graph stops "
                                     "(Wave's circuit breaker): make: *** [all] Error 2\ncc: fatal")
    assert plan.is_finished() and plan.failed_required_steps() == ["build"] and plan.visits == {"build": 3}


def test_a_composition_step_failing_alike_on_every_visit_trips_the_breaker_too():
    # found by an attacker review: each visit's child ids differ (sub.a, sub.visit2.a), so no two errors matched
    plan = GraphPlan(RETRYING, None)
    for child in ("build.a", "build.visit2.a", "build.visit3.a"):
        fail_build(plan, f"sub-pipeline tests failed: step {child}: command exited with status 1")
    assert plan.stopped is not None and "Wave's circuit breaker" in plan.stopped[1]


def test_different_errors_keep_the_graph_going_until_its_cap():
    plan = GraphPlan(RETRYING, None)
    for attempt in range(1, 10):
        fail_build(plan, "error A" if attempt % 2 else "error B")
        assert plan.stopped is None, attempt
    fail_build(plan, "error A")  # a different error between two like ones restarts the count
    assert plan.stopped == ("build", "step build reached its max_visits (10); the graph stops")


def dag_with_graph_child(rw: bool = False) -> Plan:
    """A DAG `sub -> after` whose `sub` runs LOOPING as a graph sub-pipeline (ids `sub.*`)."""
    from wave_sandbox.engine.sub_pipelines import renamed_steps

    children = renamed_steps(LOOPING, "sub")
    plan = Plan([PlannedStep("sub"), PlannedStep("other", readwrite=rw), PlannedStep("after", ("sub",))])
    plan.add_steps([PlannedStep(c.id, readwrite=rw, optional=True) for c in children], before="sub")
    plan.replace_step(PlannedStep("sub", waits_for=tuple(c.id for c in children)))
    plan.attach_graph("sub", GraphPlan(children, None, states=plan.states))
    return plan


def without_other(plan: Plan) -> Plan:
    plan.mark_running("other")
    plan.mark_completed("other")
    return plan


def test_a_graph_sub_pipeline_follows_its_edges_inside_a_dag_and_stops_at_max_visits():
    plan = dag_with_graph_child()
    assert plan.ready_steps() == ["sub.fix", "other"]
    walk(without_other(plan), [("sub.fix", True), ("sub.test", False), ("sub.fix", True), ("sub.test", False)])
    assert plan.ready_steps() == ["sub"]  # the cap ended the graph: every child has finished
    assert plan.subgraphs["sub"].stopped == ("sub.fix", "step sub.fix reached its max_visits (2); the graph stops")
    assert plan.judged_state("sub.fix") is StepState.FAILED  # the step the cap stopped at
    assert plan.judged_state("sub.test") is StepState.SKIPPED  # its failures were routed by edges
    assert plan.judged_state("sub.done") is StepState.SKIPPED and plan.judged_state("other") is StepState.COMPLETED


def test_a_graph_sub_pipeline_that_takes_its_success_edge_has_no_failed_step():
    plan = without_other(dag_with_graph_child())
    walk(plan, [("sub.fix", True), ("sub.test", False), ("sub.fix", True), ("sub.test", True), ("sub.done", True)])
    assert not plan.subgraphs["sub"].stopped
    assert {plan.judged_state(f"sub.{s}") for s in ("fix", "test", "done")} == {StepState.COMPLETED}


def test_read_write_steps_of_a_graph_sub_pipeline_and_of_the_dag_never_run_together():
    plan = dag_with_graph_child(rw=True)
    assert plan.ready_steps() == ["sub.fix"]
    plan.mark_running("sub.fix")
    assert plan.ready_steps() == []
    plan.mark_completed("sub.fix")
    assert plan.ready_steps() == ["sub.test"]  # the graph's step before the DAG's next read-write one


CONDITIONAL = graph(
    {"id": "review", "persona": "navigator", "edges": [{"target": "route"}]},
    {"id": "route", "type": "conditional", "edges": [{"target": "publish", "condition": "outcome=success"},
                                                     {"target": "_complete"}]},
    {"id": "publish", "persona": "navigator"},
)


def test_a_conditional_node_routes_by_the_outcome_before_it():
    plan = GraphPlan(CONDITIONAL, None)
    walk(plan, [("review", False), ("route", True)])
    assert plan.is_finished() and plan.states["publish"] is StepState.SKIPPED
    plan = GraphPlan(CONDITIONAL, None)
    walk(plan, [("review", True), ("route", True), ("publish", True)])


def reader(files: dict[tuple[str, str | None], bytes]):
    return lambda step_id, name: files.get((step_id, name))


def test_references_read_artifacts_by_step_name_and_field_in_the_nearest_scope():
    files = {("scope", None): b'{"items": [{"n": 1}, {"n": 2}]}', ("loop.2.check", "result"): b'{"done": true}',
             ("check", "result"): b'{"done": false}'}
    read = reader(files)
    assert values.resolve_references("{{ scope.output.items }}", "in", read) == '[{"n": 1}, {"n": 2}]'
    assert values.resolve_references("{{ check.out.result.done }}", "in", read, namespace="loop.2") == "true"
    assert values.resolve_references("{{ check.out.result.done }}", "in", read) == "false"
    assert values.resolve_references("{{ item.n }} of {{ input }}", "all", read, item={"n": 3}) == "3 of all"
    assert values.resolve_references("{{ ghost.output }} {{ env.X }}", "", read) == "{{ ghost.output }} {{ env.X }}"


def test_a_field_of_a_steps_output_is_looked_up_in_each_of_its_artifacts_as_wave_does():
    """A sub-pipeline step holds its child's artifacts: `{{ scope.output.F }}` is the first that has F."""
    files = {("scope", None): b'{"summary": "ok"}', ("scope", "report"): b'{"summary": "ok"}',
             ("scope", "plan"): b'{"created_issues": [{"number": 1}], "parent": {"repository": "o/r"}}'}
    names = {"scope": ["report", "plan"]}.get
    resolve = lambda text: values.resolve_references(text, "", reader(files), artifact_names=names)
    assert resolve("{{ scope.output.created_issues }}") == '[{"number": 1}]'
    assert resolve("{{scope.output.parent.repository}} {{ scope.output.summary }}") == "o/r ok"
    assert resolve("{{ scope.output }}") == '{"summary": "ok"}'  # the whole output: the first artifact
    assert resolve("{{ scope.output.nowhere }}") == "{{ scope.output.nowhere }}"


def test_merge_arrays_flattens_and_extracts_keys_as_wave_does():
    assert values.merge_arrays('[[1, 2], [3], 4]', None) == [1, 2, 3, 4]
    assert values.merge_arrays('[1, 2]', None) == [1, 2]
    assert values.merge_arrays('[{"f": [1]}, {"f": [2, 3]}]', "f") == [1, 2, 3]
    with pytest.raises(CompositionError, match="did not resolve to a JSON array"):
        values.merge_arrays("{{ fan.output }}", None)
    with pytest.raises(CompositionError, match="over the"):
        values.load_json(b"[" + b"0," * values.MAX_VALUE_BYTES + b"0]")


def keeper(**settings) -> tuple[GateKeeper, list[str]]:
    waited: list[str] = []
    stopping = threading.Event()
    gate_keeper = GateKeeper(GateSettings(interactive=False, **settings), stopping, waited.append)
    return gate_keeper, waited


APPROVAL = GateConfig(type="approval", prompt="Ship it?", choices=[{"key": "a", "label": "Ship", "target": "ship"},
                                                                  {"key": "q", "label": "Stop", "target": "_fail"}])


def test_an_unattended_gate_is_refused_unless_approved_by_flag_or_auto():
    gate_keeper, waited = keeper()
    with pytest.raises(CompositionError, match="pass --approve review or --auto-approve"):
        gate_keeper.resolve("sub.review", "review", APPROVAL, waited.append)
    assert waited == ["Ship it?"]
    approved = keeper(approve=frozenset({"review"}))[0].resolve("sub.review", "review", APPROVAL, waited.append)
    assert approved.message == "approved by --approve review: Ship (a)" and approved.target == "ship"
    auto = keeper()[0].resolve("g", "g", APPROVAL.model_copy(update={"auto": True, "default": "q"}), waited.append)
    assert auto.target == "_fail" and auto.message.startswith("auto-approved (auto: true)")


def test_a_gate_with_a_default_and_a_timeout_takes_the_default_when_nobody_answers():
    gate = APPROVAL.model_copy(update={"default": "a", "timeout": "10ms"})
    decision = keeper()[0].resolve("g", "g", gate, lambda message: None)
    assert decision.target == "ship" and decision.message.startswith("no answer within 10ms")


def test_an_answer_at_the_terminal_picks_a_choice():
    stopping = threading.Event()
    settings = GateSettings(interactive=True, stdin=io.StringIO("q\n"), prompt_stream=io.StringIO())
    settings.stdin.fileno = lambda: 0  # select() needs a descriptor; the StringIO is always readable
    gate_keeper = GateKeeper(settings, stopping, print)
    gate_keeper._read_line = lambda timeout: settings.stdin.readline()
    decision = gate_keeper.resolve("g", "g", APPROVAL, lambda message: None)
    assert decision.target == "_fail" and "[a] Ship" in settings.prompt_stream.getvalue()


def test_a_timer_waits_and_a_stop_ends_the_wait():
    gate_keeper, _ = keeper()
    assert gate_keeper.resolve("t", "t", GateConfig(type="timer", timeout="10ms"), lambda m: None).message == \
        "timer elapsed after 10ms"
    gate_keeper.stopping.set()
    with pytest.raises(CompositionError, match="interrupted"):
        gate_keeper.resolve("t", "t", GateConfig(type="timer", timeout="1h"), lambda m: None)


def test_env_of_a_sub_pipeline_reaches_host_side_templates_only_when_set():
    read = reader({})
    assert values.resolve_references("{{ env.profile }}", "", read, env={"profile": "core"}) == "core"
    assert values.resolve_references("{{ env.profile }}", "", read) == "{{ env.profile }}"  # Wave: the default case


def test_a_sub_pipelines_rework_targets_follow_its_renamed_steps():
    from wave_sandbox.engine.sub_pipelines import renamed_steps

    steps = graph(
        {"id": "implement", "persona": "craftsman", "retry": {"on_failure": "rework", "rework_step": "fix"},
         "handover": {"contract": {"type": "non_empty_file", "on_failure": "rework", "rework_step": "fix"},
                      "contracts": [{"type": "non_empty_file", "on_failure": "rework", "rework_step": "fix"}]}},
        {"id": "fix", "persona": "craftsman", "rework_only": True},
    )
    implement, _ = renamed_steps(steps, "all.1")
    assert implement.retry.rework_step == "all.1.fix"
    assert implement.handover.contract.rework_step == "all.1.fix"
    assert implement.handover.contracts[0].rework_step == "all.1.fix"
    assert steps[0].retry.rework_step == "fix"  # the loaded pipeline is left as it was
