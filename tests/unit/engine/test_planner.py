import pytest

from wave_sandbox.engine.planner import Plan, PlannedStep, StepState, dependency_order, filter_steps
from wave_sandbox.errors import FilterError

SEED = [
    PlannedStep("triage"),
    PlannedStep("investigate", ("triage",)),
    PlannedStep("root-cause", ("investigate",)),
    PlannedStep("remediate", ("root-cause",), readwrite=True),
    PlannedStep("postmortem", ("remediate",)),
]


def test_eager_start_does_not_wait_for_the_whole_level():
    # a -> c, b (slow) independent: c must start as soon as a completes, while b still runs
    plan = Plan([PlannedStep("a"), PlannedStep("b"), PlannedStep("c", ("a",))])
    assert plan.ready_steps() == ["a", "b"]
    plan.mark_running("a")
    plan.mark_running("b")
    plan.mark_completed("a")
    assert plan.ready_steps() == ["c"]


def test_seed_runs_in_sequence():
    plan = Plan(list(SEED))
    order = []
    while not plan.is_finished():
        ready = plan.ready_steps()
        assert len(ready) == 1
        order.append(ready[0])
        plan.mark_running(ready[0])
        plan.mark_completed(ready[0])
    assert order == ["triage", "investigate", "root-cause", "remediate", "postmortem"]


def test_failure_skips_dependents_transitively_but_not_siblings():
    plan = Plan([PlannedStep("a"), PlannedStep("b", ("a",)), PlannedStep("c", ("b",)), PlannedStep("d")])
    plan.mark_running("a")
    assert plan.mark_failed("a") == ["b", "c"]
    assert plan.states["c"] is StepState.SKIPPED
    assert plan.ready_steps() == ["d"]


def test_readwrite_steps_run_one_at_a_time_in_declaration_order():
    plan = Plan([PlannedStep("w1", readwrite=True), PlannedStep("r"), PlannedStep("w2", readwrite=True)])
    assert plan.ready_steps() == ["w1", "r"]
    plan.mark_running("w1")
    assert plan.ready_steps() == ["r"]
    plan.mark_completed("w1")
    assert plan.ready_steps() == ["r", "w2"]


def test_readwrite_order_follows_dependencies_before_declaration():
    plan = Plan([PlannedStep("w1", ("w2",), readwrite=True), PlannedStep("w2", readwrite=True)])
    assert plan.ready_steps() == ["w2"]


def test_dependency_order_breaks_ties_by_declaration():
    steps = [PlannedStep("z"), PlannedStep("a"), PlannedStep("m", ("z",))]
    assert dependency_order(steps) == ["z", "a", "m"]


def test_filter_only_and_exclude():
    kept = filter_steps(SEED, only=["triage", "investigate"])
    assert [s.id for s in kept] == ["triage", "investigate"]
    kept = filter_steps(SEED, exclude=["postmortem"])
    assert [s.id for s in kept] == ["triage", "investigate", "root-cause", "remediate"]


def test_filter_refuses_a_kept_step_whose_dependency_was_removed():
    with pytest.raises(FilterError, match="step 'investigate' needs 'triage'"):
        filter_steps(SEED, only=["investigate"])
    with pytest.raises(FilterError, match="step 'postmortem' needs 'remediate'"):
        filter_steps(SEED, exclude=["remediate"])


def test_filter_allows_removed_dependency_that_already_completed():
    kept = filter_steps(SEED, only=["investigate"], already_completed={"triage"})
    plan = Plan(kept, already_completed=frozenset({"triage"}))
    assert plan.ready_steps() == ["investigate"]


def test_filter_names_unknown_step():
    with pytest.raises(FilterError, match="no step named 'nope'"):
        filter_steps(SEED, only=["nope"])


