"""Pure DAG logic for one run: which steps may start now, and what a failure skips.

Scheduling is eager: a step becomes ready the moment its own dependencies have completed, not when
its whole "level" has. Steps with a read-write mount share one clone, so they run one at a time, in
dependency order, declaration order breaking ties between independent ones.

A graph pipeline (edges) keeps its own planner (graph_plan.GraphPlan, attached with `attach_graph`,
sharing `states`), the run's own under the prefix "" and each one run as a sub-pipeline under its step's
prefix: its steps become ready when its edges reach them (a composition step among them once its
children have finished too), and what finishing them means (routing, visit caps) is its call. Children
of a composition step in a graph are ordinary steps of this plan (or of a graph of their own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wave_sandbox.engine.status import StepStatus
from wave_sandbox.errors import FilterError

StepState = StepStatus
"""The planner's name for the one step status (run.json records the same values)."""


FINISHED_STATES = {StepState.COMPLETED, StepState.FAILED, StepState.SKIPPED}


@dataclass(frozen=True)
class PlannedStep:
    """What the planner needs to know of a step: its id, what it waits for, whether it writes the clone."""

    id: str
    dependencies: tuple[str, ...] = ()
    readwrite: bool = False
    optional: bool = False
    waits_for: tuple[str, ...] = ()
    """Steps that must have finished, however they ended (a composition step waits for its children)."""
    group: str | None = None
    """A fan-out (an iterate step's id) whose members share a concurrency limit."""
    member: str | None = None
    """Which member of the group the step belongs to (one iterate item)."""


def dependency_order(steps: list[PlannedStep]) -> list[str]:
    """Topological order of the step ids, declaration order breaking ties.

    Dependencies outside `steps` (completed in an earlier attempt) do not constrain the order.
    """
    present = {step.id for step in steps}
    remaining = {step.id: set(step.dependencies + step.waits_for) & present for step in steps}
    order: list[str] = []
    while remaining:
        ready = [step.id for step in steps if step.id in remaining and not remaining[step.id]]
        if not ready:
            raise ValueError(f"dependency cycle among: {', '.join(sorted(remaining))}")
        first = ready[0]
        order.append(first)
        del remaining[first]
        for waiting in remaining.values():
            waiting.discard(first)
    return order


def filter_steps(
    steps: list[PlannedStep],
    only: list[str] | None = None,
    exclude: list[str] | None = None,
    already_completed: set[str] | frozenset[str] = frozenset(),
) -> list[PlannedStep]:
    """Keep the steps named by --steps minus those named by --exclude.

    A kept step whose dependency was removed cannot get its inputs, so that is an error, unless the
    dependency already completed in an earlier attempt of the same run (resume).
    """
    known = {step.id for step in steps}
    for name in [*(only or []), *(exclude or [])]:
        if name not in known:
            raise FilterError(f"no step named '{name}' in this pipeline (steps: {', '.join(s.id for s in steps)})")
    kept_ids = set(only) if only else set(known)
    kept_ids -= set(exclude or [])
    for step in steps:
        if step.id not in kept_ids:
            continue
        for dependency in step.dependencies:
            if dependency not in kept_ids and dependency not in already_completed:
                raise FilterError(
                    f"step '{step.id}' needs '{dependency}', which --steps/--exclude removed; "
                    f"keep '{dependency}' too or drop '{step.id}'"
                )
    return [step for step in steps if step.id in kept_ids]


@dataclass
class Plan:
    """The live state of a run's steps; the runner asks it what to start and tells it what finished."""

    steps: list[PlannedStep]
    already_completed: frozenset[str] = frozenset()
    states: dict[str, StepState] = field(default_factory=dict)
    group_limits: dict[str, int] = field(default_factory=dict)
    """How many members of each group may be under way at once."""
    subgraphs: dict[str, Any] = field(default_factory=dict)
    """Graph pipelines: their id prefix ("" for the run's own) -> their GraphPlan (sharing `states`)."""

    def __post_init__(self) -> None:
        self._graph_of: dict[str, str] = {}
        self._index()
        for step in self.steps:
            self.states.setdefault(step.id, StepState.PENDING)

    def _index(self) -> None:
        self._by_id = {step.id: step for step in self.steps}
        self._order = dependency_order(self.steps)
        self._readwrite_order = [sid for sid in self._order if self._by_id[sid].readwrite]

    def add_steps(self, new_steps: list[PlannedStep], before: str) -> None:
        """Insert a composition step's children just before it (their declaration order wins ties)."""
        position = next(index for index, step in enumerate(self.steps) if step.id == before)
        self.steps[position:position] = new_steps
        self._index()
        for step in new_steps:
            done = step.id in self.already_completed
            self.states[step.id] = StepState.COMPLETED if done else StepState.PENDING

    def attach_graph(self, prefix: str, graph: Any) -> None:
        """Hand the steps of a graph sub-pipeline (already added, without dependencies) to its own planner."""
        self.subgraphs[prefix] = graph
        for step_id in graph.declared:
            self._graph_of[step_id] = prefix

    def graph_holding(self, step_id: str) -> Any:
        """The GraphPlan of the graph sub-pipeline the step belongs to, or None."""
        prefix = self._graph_of.get(step_id)
        return self.subgraphs[prefix] if prefix is not None else None

    def judged_state(self, step_id: str) -> StepState | None:
        """How a step ended for the composition step that waits for it: in a graph, a failure its edges
        routed on is no failure, and the step a visit cap stopped at failed (Wave's graph verdict)."""
        state, graph = self.states.get(step_id), self.graph_holding(step_id)
        if graph is None:
            return state
        if step_id in graph.failed_required_steps():
            return StepState.FAILED
        return StepState.SKIPPED if state is StepState.FAILED else state

    def replace_step(self, step: PlannedStep) -> None:
        """Swap in a step's new description (what it waits for) and make it pending again."""
        self.steps = [step if old.id == step.id else old for old in self.steps]
        self._index()
        self.states[step.id] = StepState.PENDING

    def requeue(self, step_ids: list[str]) -> None:
        for step_id in step_ids:
            self.states[step_id] = StepState.PENDING

    def step(self, step_id: str) -> PlannedStep:
        return self._by_id[step_id]

    def ready_steps(self) -> list[str]:
        """Pending steps whose dependencies all completed, in dependency order."""
        ready = [sid for sid in self._order if self._is_ready(sid)]
        return self._limit_groups(self._limit_readwrite(ready))

    def _is_ready(self, step_id: str) -> bool:
        if self.states[step_id] is not StepState.PENDING:
            return False
        graph = self.graph_holding(step_id)
        step = self._by_id[step_id]
        waited = all(self.states.get(other) in FINISHED_STATES for other in step.waits_for)
        if graph is not None:
            return waited and step_id in graph.ready_steps()
        return waited and all(self._dependency_completed(dep) for dep in step.dependencies)

    def visit_of(self, step_id: str) -> int:
        """Which visit of its graph the step is at (1 outside graphs): a composition step's children of a
        later visit are a fresh child run."""
        graph = self.graph_holding(step_id)
        return graph.visits.get(step_id, 1) if graph is not None else 1

    def _limit_groups(self, ready: list[str]) -> list[str]:
        """A fan-out's members already under way keep going; new ones start while the group has room."""
        admitted: dict[str, set[str]] = {}
        kept = []
        for sid in ready:
            step = self._by_id[sid]
            if step.group is None or step.group not in self.group_limits:
                kept.append(sid)
                continue
            members = admitted.setdefault(step.group, self._members_under_way(step.group))
            if step.member in members or len(members) < self.group_limits[step.group]:
                members.add(step.member)
                kept.append(sid)
        return kept

    def _members_under_way(self, group: str) -> set[str]:
        states_by_member: dict[str, set[StepState]] = {}
        for step in self.steps:
            if step.group == group:
                states_by_member.setdefault(step.member, set()).add(self.states[step.id])
        return {
            member for member, states in states_by_member.items()
            if StepState.RUNNING in states or (StepState.PENDING in states and states & FINISHED_STATES)
        }

    def _dependency_completed(self, dependency: str) -> bool:
        if dependency in self.already_completed:
            return True
        return self.states.get(dependency) is StepState.COMPLETED

    def _limit_readwrite(self, ready: list[str]) -> list[str]:
        """Only one read-write step runs at a time: the first unfinished one of the DAG, or the step a graph
        sub-pipeline is at (a graph takes its steps in its own order, revisits included)."""
        dag_readwrite = [sid for sid in self._readwrite_order if sid not in self._graph_of]
        next_readwrite = next((sid for sid in dag_readwrite if self.states[sid] not in FINISHED_STATES), None)
        admitted = any(self.states[sid] is StepState.RUNNING for sid in self._readwrite_order)
        kept = []
        for sid in ready:
            if not self._by_id[sid].readwrite:
                kept.append(sid)
            elif not admitted and (sid == next_readwrite or sid in self._graph_of):
                kept.append(sid)
                admitted = True
        return kept

    def mark_running(self, step_id: str) -> None:
        self.states[step_id] = StepState.RUNNING

    def mark_completed(self, step_id: str) -> None:
        graph = self.graph_holding(step_id)
        if graph is not None:
            return graph.mark_completed(step_id)
        self.states[step_id] = StepState.COMPLETED

    def mark_failed(self, step_id: str, error: str = "") -> list[str]:
        """Record a failure (`error`: its message); return the dependents (transitively) now skipped, in order."""
        graph = self.graph_holding(step_id)
        if graph is not None:
            return graph.mark_failed(step_id, error)
        self.states[step_id] = StepState.FAILED
        return self.skip_dependents_of(step_id)

    def skip_dependents_of(self, step_id: str) -> list[str]:
        graph = self.graph_holding(step_id)
        if graph is not None:
            return graph.skip_dependents_of(step_id)
        blocked = {step_id}
        skipped: list[str] = []
        for sid in self._order:
            step = self._by_id[sid]
            if self.states[sid] is StepState.PENDING and blocked.intersection(step.dependencies):
                self.states[sid] = StepState.SKIPPED
                blocked.add(sid)
                skipped.append(sid)
        return skipped

    def skip_all_pending(self) -> list[str]:
        for graph in self.subgraphs.values():
            graph.halt()  # a step of it still running must not route the graph on when it ends
        pending = [sid for sid in self._order if self.states[sid] is StepState.PENDING]
        for sid in pending:
            self.states[sid] = StepState.SKIPPED
        return pending

    def is_finished(self) -> bool:
        return all(state in FINISHED_STATES for state in self.states.values())

    def running_steps(self) -> list[str]:
        return [sid for sid in self._order if self.states[sid] is StepState.RUNNING]

    def failed_required_steps(self) -> list[str]:
        """Failed steps nothing judges for them; a graph's steps by the graph's verdict (judged_state)."""
        return [
            sid
            for sid in self._order
            if self.judged_state(sid) is StepState.FAILED and not self._by_id[sid].optional
        ]
