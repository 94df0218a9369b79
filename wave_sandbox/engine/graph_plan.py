"""Wave's graph mode: a pipeline with `edges` (or `type: conditional`) runs by following edges.

The planner of internal/pipeline/graph.go: start at the first step; after each step take the first
edge whose condition holds (`outcome=success|failure`, `context.KEY=VALUE`; no condition always holds;
`_complete` ends the run); a step without edges goes on to the first step that depends on it. A
target whose dependencies have not run yet waits while they run. Each step may be visited at most
`max_visits` times (default 10), the graph `max_step_visits` times in all (default 50): going over
stops the run with one line. A failure is routed like any outcome when the step has edges, and ends
the run when it has none; a step whose last three failures had the same error stops the graph
(Wave's circuit breaker; errors compared without blank lines or indentation, on their first 500
characters; not kept across a resume, as in Wave). `snapshot()` goes to run.json after every move, so resume starts where the
graph stopped, with its visit counts. Every graph gets a GraphPlan of its own, attached to the run's plan
and sharing its `states` (planner.Plan.attach_graph): the run's own graph and each graph pipeline run as a
sub-pipeline. A composition step is one visit however many children it runs: the run's plan holds its
children and the step ends (and the graph moves on) once they have finished.
"""

from __future__ import annotations

import re

from wave_sandbox.engine.planner import Plan, PlannedStep, StepState
from wave_sandbox.spec import composition as c
from wave_sandbox.spec.models import Step

SUCCESS, FAILURE = "success", "failure"
BREAKER_WINDOW = 3
"""Wave's circuitBreakerWindow: a step's last this many failures, all with the same error, stop the graph."""


class GraphPlan(Plan):
    """One step at a time, chosen by edges; the runner drives it through Plan's interface."""

    def __init__(self, specs: list[Step], max_step_visits: int | None, snapshot: dict | None = None,
                 states: dict[str, StepState] | None = None):
        steps = [PlannedStep(s.id, tuple(s.dependencies), readwrite=s.is_readwrite, optional=bool(s.optional))
                 for s in specs]
        self.specs = {spec.id: spec for spec in specs}
        self.declared = [spec.id for spec in specs]
        self.max_step_visits = max_step_visits or c.DEFAULT_MAX_STEP_VISITS
        self.visits: dict[str, int] = {}
        self.deferred: list[str] = []
        self.current: str | None = None
        self.last_outcome = SUCCESS
        self.resume_at: str | None = None
        self.stopped: tuple[str, str] | None = None
        """(step, why) when a visit cap stopped the graph."""
        self.halted = False
        self.recent_errors: dict[str, list[str]] = {}
        """Each step's last BREAKER_WINDOW errors, normalized (Wave's errorHistory)."""
        """The run stopped (an abort, Ctrl-C, the graph's own failure): a step still running routes nowhere."""
        super().__init__(steps, states=states if states is not None else {})
        if snapshot:
            self._restore(snapshot)
        else:
            self._enter(self.declared[0])

    # ----- Plan's interface ---------------------------------------------------------------------
    def ready_steps(self) -> list[str]:
        current = self.current
        return [current] if current is not None and self.states[current] is StepState.PENDING else []

    def mark_completed(self, step_id: str) -> None:
        self.states[step_id] = StepState.COMPLETED
        if self.specs[step_id].type != c.CONDITIONAL:
            self.last_outcome = SUCCESS
        self._route(step_id)

    def mark_failed(self, step_id: str, error: str = "") -> list[str]:
        self.states[step_id] = StepState.FAILED
        if self._breaker_trips(step_id, error):
            self._stop(step_id, f"step {step_id} failed {BREAKER_WINDOW} times with the same error; "
                                f"the graph stops (Wave's circuit breaker): {error.strip()}")
            return []
        if self.specs[step_id].edges:
            self.last_outcome = FAILURE
            self._route(step_id)
            return []
        self.resume_at = step_id  # a failure without edges ends the graph; resume runs the step again
        self.current = None
        return self.skip_all_pending()

    def skip_all_pending(self) -> list[str]:
        self.halt()
        return super().skip_all_pending()

    def halt(self) -> None:
        self.halted = True
        self.current = None

    def is_finished(self) -> bool:
        return self.current is None and not self.running_steps()

    def failed_required_steps(self) -> list[str]:
        if self.stopped:
            return [self.stopped[0]]
        failed = [sid for sid in self.declared if self.states[sid] is StepState.FAILED]
        return [sid for sid in failed if not self.specs[sid].edges and not self.specs[sid].optional]

    def snapshot(self) -> dict:
        return {"current": self.current or self.resume_at, "visits": dict(self.visits), "deferred": list(self.deferred),
                "last_outcome": self.last_outcome, "stopped": list(self.stopped) if self.stopped else None}

    # ----- routing --------------------------------------------------------------------------------
    def _route(self, step_id: str) -> None:
        if self.halted:
            return
        target = self._next_by_edges(self.specs[step_id])
        target = None if self.stopped else self._respect_dependencies(target)
        if target is None:
            self.current = None
            self._skip_unvisited()
            return
        self._enter(target)

    def _next_by_edges(self, step: Step) -> str | None:
        if not step.edges:
            return next((sid for sid in self.declared if step.id in self.specs[sid].dependencies), None)
        for edge in step.edges:
            namespace, key, value = c.parse_condition(edge.condition)
            if namespace == "" or (namespace == "outcome" and value == self.last_outcome):
                return None if edge.target == c.EDGE_COMPLETE else edge.target
        self.stopped = (step.id, f"no edge of {step.id} matches its outcome ({self.last_outcome}); the graph stops")
        return None

    def _respect_dependencies(self, target: str | None) -> str | None:
        if target is not None and not self._dependencies_visited(target):
            self.deferred.append(target)
            return self._first_unvisited_ready() or target
        if target is None and self.deferred:
            ready = [sid for sid in self.deferred if self._dependencies_visited(sid)]
            if ready:
                self.deferred.remove(ready[0])
                return ready[0]
        return target

    def _dependencies_visited(self, step_id: str) -> bool:
        return all(self.visits.get(dependency, 0) > 0 for dependency in self.specs[step_id].dependencies)

    def _first_unvisited_ready(self) -> str | None:
        return next((sid for sid in self.declared
                     if not self.visits.get(sid) and self._dependencies_visited(sid)), None)

    def _enter(self, step_id: str) -> None:
        cap = self.specs[step_id].max_visits or c.DEFAULT_MAX_VISITS
        if self.visits.get(step_id, 0) >= cap:
            return self._stop(step_id, f"step {step_id} reached its max_visits ({cap}); the graph stops")
        if sum(self.visits.values()) >= self.max_step_visits:
            return self._stop(step_id, f"the graph reached max_step_visits ({self.max_step_visits}); it stops")
        self.visits[step_id] = self.visits.get(step_id, 0) + 1
        self.states[step_id] = StepState.PENDING
        self.current = step_id

    def _breaker_trips(self, step_id: str, error: str) -> bool:
        if not error:
            return False  # a failure without a message is not compared
        history = [*self.recent_errors.get(step_id, []), normalized_error(error)][-BREAKER_WINDOW:]
        self.recent_errors[step_id] = history
        return len(history) == BREAKER_WINDOW and len(set(history)) == 1

    def _stop(self, step_id: str, why: str) -> None:
        self.stopped = (step_id, why)
        self.current = None
        self._skip_unvisited()

    def _skip_unvisited(self) -> None:
        for sid in self.declared:
            if self.states[sid] is StepState.PENDING:
                self.states[sid] = StepState.SKIPPED

    def _restore(self, snapshot: dict) -> None:
        self.visits = {str(k): int(v) for k, v in (snapshot.get("visits") or {}).items() if k in self.specs}
        self.deferred = [sid for sid in snapshot.get("deferred") or [] if sid in self.specs]
        self.last_outcome = snapshot.get("last_outcome") or SUCCESS
        current = snapshot.get("current")
        for sid in self.declared:
            self.states[sid] = StepState.COMPLETED if self.visits.get(sid) else StepState.PENDING
        stopped = snapshot.get("stopped")
        if isinstance(stopped, list) and len(stopped) == 2 and stopped[0] in self.specs:
            # a cap stopped it: Wave's resume restores the visit counts and meets the same cap again
            self.stopped = (str(stopped[0]), str(stopped[1]))
            return self._skip_unvisited()
        if current in self.specs:
            self.current = current
            self.states[current] = StepState.PENDING


def normalized_error(message: str) -> str:
    """Wave's normalizeErrorMessage: lines stripped, blank ones dropped, the first 500 characters; and the
    visit in a child's id (`sub.visit2.a`, `sub#2/a`) dropped, so that a composition step failing the same
    way on every visit trips the breaker as a plain step does."""
    lines = "\n".join(line.strip() for line in message.splitlines() if line.strip())
    return _CHILD_LABEL_VISIT.sub("/", _CHILD_ID_VISIT.sub(".", lines))[:500]


_CHILD_ID_VISIT = re.compile(r"\.visit\d+\.")
_CHILD_LABEL_VISIT = re.compile(r"#\d+/")
