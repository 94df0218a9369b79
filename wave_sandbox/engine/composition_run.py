"""The run loop's side of composition: host steps dispatched, their children planned, graphs followed.

A mixin of `PipelineRun` (runner.py), so the loop stays one loop: a host step runs in the same
worker pool as container steps (a gate may wait there), and everything that changes the plan
happens on the loop's own thread when the step's result comes back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from wave_sandbox.engine import events as ev
from wave_sandbox.engine.composer import Composer, HostResult
from wave_sandbox.engine.gates import GateKeeper, GateSettings
from wave_sandbox.engine.graph_plan import GraphPlan
from wave_sandbox.engine.preflight import Preflight
from wave_sandbox.engine.planner import Plan, PlannedStep
from wave_sandbox.engine.run_file import StepStatus
from wave_sandbox.engine.step_control import runs_in_plan
from wave_sandbox.errors import StepFailedError, WaveSandboxError
from wave_sandbox.spec.composition import is_graph_pipeline

MOCK_APPROVAL = "the mock model approves every gate"
ROOT_GRAPH = ""
"""The prefix the run's own graph is attached under (a graph sub-pipeline's is its step's id prefix)."""
MAX_GATE_RETURNS = 10
"""How often gates may send the run back to one step (Wave's revision loop), as a step's max_visits."""


@dataclass(frozen=True)
class HostPersona:
    """What a display shows in the persona column of a host step: its primitive."""

    name: str


def build_plan(loaded, planned: list[PlannedStep], completed: set[str], resumed_record) -> Plan:
    """The DAG (resumed after what completed), or for a pipeline with edges a plan whose steps Wave's graph
    mode takes one at a time (its GraphPlan, under the prefix ROOT_GRAPH, resumed where it stood)."""
    if not is_graph_pipeline(loaded.pipeline.steps):
        return Plan(planned, already_completed=frozenset(completed))
    specs = list(loaded.pipeline.steps)
    plan = Plan([PlannedStep(s.id, readwrite=s.is_readwrite) for s in specs], already_completed=frozenset(completed))
    snapshot = resumed_record.data.get("graph") if resumed_record is not None else None
    plan.attach_graph(ROOT_GRAPH, GraphPlan(specs, loaded.pipeline.max_step_visits, snapshot, states=plan.states))
    return plan


def gate_settings(options, model_description: str) -> GateSettings:
    mock = model_description.startswith("mock")
    return GateSettings(approve=frozenset(getattr(options, "approve", ()) or ()),
                        auto_approve=bool(getattr(options, "auto_approve", False)),
                        approve_reason=MOCK_APPROVAL if mock else None)


class CompositionRunMixin:
    """Needs from PipelineRun: loaded, personas, options, plan, record, emit, notify, failures, artifacts_by_step,
    control (its `stopping` event, set on Ctrl-C, also stops gates and timers)."""

    def _setup_composition(self) -> None:
        self.stopping = self.control.stopping
        self.root_step_ids = [step.id for step in self.loaded.pipeline.steps]
        self._host_started: dict[str, float] = {}
        self._host_children: dict[str, list[str]] = {}
        self._dag_starts: dict[str, int] = {}
        """How often a composition step outside graphs started over (a gate sent the run back to it)."""
        self._gate_returns: dict[str, int] = {}
        self.stopped_by: str | None = None
        """The gate whose `_fail` stopped the run (outside graphs): the run fails with its line."""
        self._graph_stops_reported: set[str] = set()
        self._resumed_graphs: dict[str, dict] = dict(self.resumed_record.data.get("graphs") or {}) \
            if self.resumed_record is not None else {}
        """Where each graph sub-pipeline stood when the resumed attempt ended, by its id prefix."""
        keeper = GateKeeper(gate_settings(self.options, self.infrastructure.model_description),
                            self.stopping, self.notify)
        self.preflight = Preflight(lambda: self.infrastructure.step_context(self.record, self.options))
        self.composer = Composer(self.loaded, self.personas, None, self.options.input_text,
                                 getattr(self.options, "ceilings", None), self.infrastructure.output,
                                 keeper, self.emit, self.notify, self.preflight.missing_for)

    def _is_host_step(self, step_id: str) -> bool:
        return self.composer.is_host(step_id)

    def _host_persona(self, step_id: str) -> HostPersona:
        return HostPersona(self.composer.kind(step_id))

    def _start_host_step(self, pool, running: dict, step_id: str) -> None:
        self.plan.mark_running(step_id)
        self.composer.record = self.record
        visit = 1
        if step_id not in self.composer.expansions:
            visit = self._visit_number(step_id)
            self.record.update_step(step_id, status=StepStatus.RUNNING, persona=self.composer.kind(step_id),
                                    started_at=datetime.now(timezone.utc).isoformat())
            self.emit(ev.STEP_STARTED, step_id=step_id, persona=self.composer.kind(step_id),
                      message=f"Starting {self.composer.kind(step_id)} step")
        running[pool.submit(self._run_host_step, step_id, visit)] = step_id

    def _visit_number(self, step_id: str) -> int:
        """Each visit of a composition step runs a fresh child run with ids of its own (Wave: a fresh child
        executor per visit); in a graph the visit is the graph's count, so a resumed run names them alike."""
        if self.plan.graph_holding(step_id) is not None:
            return self.plan.visit_of(step_id)
        self._dag_starts[step_id] = self._dag_starts.get(step_id, 0) + 1
        return self._dag_starts[step_id]

    def _run_host_step(self, step_id: str, visit: int = 1) -> HostResult:
        started = self._host_started.setdefault(step_id, time.monotonic())
        expansion = self.composer.expansions.get(step_id)
        children = expansion.children if expansion else []
        states = {child: self.plan.judged_state(child) for child in children}
        try:
            result = self.composer.run(step_id, states, dict(self.failures), visit)
        except (WaveSandboxError, ValueError, OSError) as error:  # ValueError: pydantic, JSON
            result = HostResult(False, str(error))
        result.duration_ms = int((time.monotonic() - started) * 1000)
        return result

    def _host_step_finished(self, step_id: str, result: HostResult) -> None:
        if result.children and self.stopped_by is not None:  # a gate's _fail stopped the run meanwhile
            result = HostResult(False, f"its children never started: {self.stopped_by} stopped the run",
                                duration_ms=result.duration_ms)
        if result.children:
            try:
                return self._plan_children(step_id, result)
            except WaveSandboxError as error:
                result = HostResult(False, str(error), duration_ms=result.duration_ms)
        if result.goto and self._go_back_to(step_id, result):
            return
        self._finish_host_step(step_id, result)

    def _plan_children(self, step_id: str, result: HostResult) -> None:
        self.composer.adopt(result.children)
        # rework_only children join the run (a failure may call them) but not its plan, as at the top level;
        # optional in the plan: the composition step judges its children's failures (iterate may continue);
        # a graph child's order is its graph's, not its dependencies'
        children = [child for child in result.children if runs_in_plan(child.step)]
        planned = [PlannedStep(child.step.id, () if child.graph else tuple(child.step.dependencies),
                               readwrite=child.step.is_readwrite, optional=True, group=child.group, member=child.member)
                   for child in children]
        self.plan.add_steps(planned, before=step_id)
        self._attach_graphs(children)
        if result.group_limit:
            self.plan.group_limits[step_id] = result.group_limit
        own = self.plan.step(step_id)
        self.plan.replace_step(PlannedStep(own.id, own.dependencies, own.readwrite, own.optional,
                                           waits_for=tuple(p.id for p in planned), group=own.group, member=own.member))
        self._restore_resumed_children(planned)
        self._host_children.setdefault(step_id, []).extend(p.id for p in planned)
        self.record.update_step(step_id, children=[p.id for p in planned])
        state, message = result.progress or (ev.STEP_STARTED, "")
        self.emit(state, step_id=step_id, persona=self.composer.kind(step_id), message=message)
        self._after_graph_move()

    def _attach_graphs(self, children: list) -> None:
        """Each graph sub-pipeline among the children gets its planner (resumed where it stood)."""
        graphs: dict[str, list] = {}
        for child in children:
            if child.graph:
                graphs.setdefault(child.graph, []).append(child.step)
        for prefix, specs in graphs.items():
            snapshot = self._resumed_graphs.pop(prefix, None)
            limit = self.composer.graph_limits.get(prefix)
            self.plan.attach_graph(prefix, GraphPlan(specs, limit, snapshot, states=self.plan.states))

    def _restore_resumed_children(self, planned: list[PlannedStep]) -> None:
        recorded = self.record.run_file.steps
        for child in planned:
            if child.id in self.plan.already_completed and child.id in recorded:
                self.artifacts_by_step[child.id] = list(recorded[child.id].artifacts)

    def _go_back_to(self, step_id: str, result: HostResult) -> bool:
        """A gate's choice names a step that already ran: it and everything after it run again."""
        target = result.goto
        namespace = self.composer.namespaces.get(step_id)
        target = f"{namespace}.{target}" if namespace and f"{namespace}.{target}" in self.plan.states else target
        graph = self.plan.graph_holding(step_id)
        if graph is not None:
            return self._refuse_graph_return(graph, target, result)
        if self.plan.states.get(target) not in (StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.SKIPPED):
            return False
        visits = self._gate_returns
        visits[target] = visits.get(target, 0) + 1
        if visits[target] > MAX_GATE_RETURNS:
            result.succeeded, result.message = False, f"{result.message}; {target} was sent back {MAX_GATE_RETURNS} times already"
            return False
        again = [target] + self._dependents_of(target)
        for sid in again:
            self.composer.forget(sid)
        self.plan.requeue(again)
        self.emit(ev.STEP_COMPLETED, step_id=step_id, persona="gate", duration_ms=result.duration_ms,
                  message=f"{result.message}; back to {target}")
        return True

    @staticmethod
    def _refuse_graph_return(graph: GraphPlan, target: str, result: HostResult) -> bool:
        """In a graph, edges alone move the run (Wave's walker): a choice naming a step not visited yet is
        left to them; one naming a visited step fails the gate, and the failure is routed like any other."""
        if graph.visits.get(target):
            result.succeeded = False
            result.message = (f"{result.message}; a gate in a graph pipeline cannot send the run back to "
                              f"{target}, which already ran: route back with an edge")
        return False

    def _dependents_of(self, step_id: str) -> list[str]:
        found, changed = {step_id}, True
        while changed:
            changed = False
            for step in self.plan.steps:
                if step.id not in found and found.intersection(step.dependencies):
                    found.add(step.id)
                    changed = True
        return [step.id for step in self.plan.steps if step.id in found and step.id != step_id]

    def _finish_host_step(self, step_id: str, result: HostResult) -> None:
        tokens_in, tokens_out = self._children_tokens(step_id)
        common = dict(step_id=step_id, persona=self.composer.kind(step_id), duration_ms=result.duration_ms,
                      tokens_in=tokens_in, tokens_out=tokens_out, message=result.message, artifacts=result.artifacts)
        self.artifacts_by_step[step_id] = result.artifacts
        self._host_started.pop(step_id, None)
        status = StepStatus.COMPLETED if result.succeeded else StepStatus.FAILED
        self.record.update_step(step_id, status=status, summary=result.message, duration_ms=result.duration_ms,
                                artifacts=result.artifacts, tokens_in=tokens_in, tokens_out=tokens_out)
        if result.succeeded:
            self.plan.mark_completed(step_id)
            self.emit(ev.STEP_COMPLETED, **common)
        else:
            self.failures[step_id] = result.message
            self.emit(ev.STEP_FAILED, **common)
            skipped = self._abort_run(step_id) if result.abort else self.plan.mark_failed(step_id, result.message)
            for other in skipped:
                self._emit_skipped(other, f"needs {step_id}, which failed")
        self._after_graph_move()

    def _abort_run(self, step_id: str) -> list[str]:
        """A gate's `_fail` fails the run (Wave's gateAbortError); in a graph, Wave's walker routes it on the
        gate's edges like any failure, and without edges it ends the graph."""
        if self.plan.graph_holding(step_id) is not None:
            return self.plan.mark_failed(step_id, self.failures.get(step_id, ""))
        self.stopped_by = step_id  # the run fails with the gate's line, wherever the gate is (a child's too)
        self.plan.states[step_id] = StepStatus.FAILED
        return self.plan.skip_all_pending()

    def _children_tokens(self, step_id: str) -> tuple[int, int]:
        """What the step's children used (their own children included): the step's share of the budget."""
        recorded = self.record.run_file.steps
        children = [recorded[c] for c in self._host_children.pop(step_id, []) if c in recorded]
        return sum(c.tokens_in or 0 for c in children), sum(c.tokens_out or 0 for c in children)

    def _stop_siblings_after_a_failure(self, step_id: str) -> None:
        """An item failed and its iterate does not continue: items not started yet are not started (Wave
        stops a sequential iterate, and an errgroup cancels the parallel one). A failure a graph's edges
        route on is no failure of the item."""
        group = self.plan.step(step_id).group
        if group is None or self.composer.continues_after_failure(group):
            return
        if self.plan.judged_state(step_id) is not StepStatus.FAILED:
            return
        for other in self.plan.steps:
            if other.group == group and self.plan.states[other.id] is StepStatus.PENDING:
                self.plan.states[other.id] = StepStatus.SKIPPED
                self._emit_skipped(other.id, f"{step_id} failed and the iterate does not continue")

    def _after_graph_move(self) -> None:
        """Graph mode (the run's, or a graph sub-pipeline's): keep where each graph stands in run.json; a
        visit cap ends the graph with one line; steps it never reached are skipped."""
        graphs = self.plan.subgraphs
        if ROOT_GRAPH in graphs:
            self.record.update(graph=graphs[ROOT_GRAPH].snapshot())
        if set(graphs) - {ROOT_GRAPH}:
            self.record.update(graphs={prefix: graph.snapshot() for prefix, graph in graphs.items() if prefix})
        for prefix, graph in graphs.items():
            self._report_graph_end(prefix, graph)

    def _report_graph_end(self, key: str, graph: GraphPlan) -> None:
        if graph.stopped and key not in self._graph_stops_reported:
            self._graph_stops_reported.add(key)
            step_id, why = graph.stopped
            self.failures[step_id] = why
            self.record.update_step(step_id, status=StepStatus.FAILED, summary=why)
            self.emit(ev.STEP_FAILED, step_id=step_id, persona=self._persona_name(step_id), message=why)
        if graph.current is None:
            recorded = self.record.run_file.steps
            for step_id in graph.declared:
                entry = recorded.get(step_id)
                never_shown = entry is None or entry.status is StepStatus.PENDING
                if graph.states[step_id] is StepStatus.SKIPPED and never_shown:
                    self._emit_skipped(step_id, "not on the graph's path")

    def _refuse_unresolved_injections(self, step_id: str) -> None:
        """A step injecting a parent pipeline's artifact runs only as that pipeline's sub-pipeline."""
        step = self.composer.steps[step_id]
        for injection in step.memory.inject_artifacts:
            if injection.step is None:
                raise StepFailedError(f"it injects artifact '{injection.artifact}' of pipeline {injection.pipeline}, "
                                      f"which exists only when {injection.pipeline} runs this pipeline as a sub-pipeline")

    def _persona_name(self, step_id: str) -> str:
        return self.persona_of(step_id).name

    def _label_fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        label = self.composer.label(fields.get("step_id")) if hasattr(self, "composer") else None
        return {**fields, "label": label} if label else fields
