"""Composition steps on the host: sub-pipelines, iterate, branch, loop, gate, aggregate, conditional nodes.

A step that names pipelines does not run them itself: `start` returns the child steps (ids prefixed
by the step, `sub_pipelines.renamed_steps`; from a step's second visit on, by `STEP.visitN`, so that
each visit is a fresh child run as in Wave), the runner adds them to its plan, and the step waits for
them; once they have all finished, `finish` gathers their artifacts (or starts the loop's next
iteration). Gates, aggregates and conditional nodes end in `start`. Everything runs in the same run:
one gateway and budget, one clone, one record. Wave's semantics: composition.go,
executor_composition.go.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Callable

from wave_sandbox.engine import composition_values as values
from wave_sandbox.engine.composer_artifacts import ComposerArtifacts
from wave_sandbox.engine.gates import GateKeeper
from wave_sandbox.engine.preflight import preflight_message
from wave_sandbox.engine.status import StepStatus
from wave_sandbox.engine.sub_pipelines import (
    MAX_DEPTH, MAX_ITEMS, MAX_RUN_STEPS, literal_pipeline_names, load_child_pipeline, renamed_steps,
)
from wave_sandbox.errors import CompositionError
from wave_sandbox.spec import composition as c
from wave_sandbox.spec.models import Step

MAX_AGGREGATE_BYTES = 8 * 1024 * 1024
ITERATING, SUB_PIPELINE_STARTED, LOOP_ITERATION, BRANCH_TAKEN = "iterating", "sub_pipeline", "loop_iteration", "branch"
GATE_WAITING = "gate_waiting"
COMPOSITION_STATES = (ITERATING, SUB_PIPELINE_STARTED, LOOP_ITERATION, BRANCH_TAKEN, GATE_WAITING)
"""Event states a composition step emits while it runs (README's event table)."""


@dataclass
class ChildStep:
    step: Step
    group: str | None = None
    member: str | None = None
    graph: str | None = None
    """The id prefix of the graph pipeline (edges) the step belongs to: its own planner runs it."""


@dataclass
class HostResult:
    """What a host step did: finished (succeeded or not), or handed children to the plan."""

    succeeded: bool = True
    message: str = ""
    artifacts: list[str] = field(default_factory=list)
    children: list[ChildStep] = field(default_factory=list)
    group_limit: int | None = None
    progress: tuple[str, str] | None = None
    goto: str | None = None
    """A gate's choice sends the run back to this step (re-run with its dependents)."""
    abort: bool = False
    duration_ms: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    refusals: list[str] = field(default_factory=list)


@dataclass
class Expansion:
    kind: str
    children: list[str]
    members: list[tuple[str, str]]
    """(id prefix, pipeline name) of each child run: one, or one per item."""
    iteration: int = 1


class Composer(ComposerArtifacts):
    def __init__(self, loaded, personas: dict, record, input_text: str, ceilings: Any, output,
                 gatekeeper: GateKeeper, emit: Callable[..., None], notify: Callable[[str], None],
                 missing_tools_of: Callable[[Any], list[str]] = lambda pipeline: []):
        self.loaded, self.personas, self.record, self.output = loaded, personas, record, output
        self.input_text, self.ceilings, self.gatekeeper, self.emit, self.notify = input_text, ceilings, gatekeeper, emit, notify
        self.missing_tools_of = missing_tools_of
        """Wave's preflight of a child pipeline's requires.tools, as it starts: the tools not found."""
        self.steps: dict[str, Step] = {step.id: step for step in loaded.pipeline.steps}
        self.inputs: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        self.namespaces: dict[str, str] = {}
        self.depths: dict[str, int] = {}
        self.expansions: dict[str, Expansion] = {}
        self.envs: dict[str, dict[str, str]] = {}
        """`{{ env.KEY }}` of each sub-pipeline step: its parents' config.env, the nearest winning."""
        self.pipeline_names: dict[str, str] = {}
        """The name of the pipeline each sub-pipeline step came from (root steps: the run's)."""
        self.child_outputs: dict[str, Any] = {}
        """The `pipeline_outputs` of each child run, by its id prefix."""
        self.graph_limits: dict[str, int | None] = {}
        """The `max_step_visits` of each child run that is a graph pipeline, by its id prefix."""
        self.allowed_names = literal_pipeline_names(loaded.pipeline)
        self.bases: dict[str, tuple[str, str]] = {}
        """(id prefix, label) of the visit each composition step is at: its own id and label on the first."""
        self._lock = threading.Lock()

    # ----- what the runner asks -------------------------------------------------------------
    def is_host(self, step_id: str) -> bool:
        return c.is_host_step(self.steps[step_id])

    def kind(self, step_id: str) -> str:
        kind = c.composition_kind(self.steps[step_id]) or c.CONDITIONAL
        return "sub-pipeline" if kind == c.SUB_PIPELINE else kind

    def label(self, step_id: str | None) -> str | None:
        return self.labels.get(step_id) if step_id else None

    def input_of(self, step_id: str) -> str:
        return self.inputs.get(step_id, self.input_text)

    def adopt(self, children: list[ChildStep]) -> None:
        """Make the children steps of the run (main thread: the plan and the pipeline see them together)."""
        if len(self.steps) + len(children) > MAX_RUN_STEPS:
            raise CompositionError(f"the run would hold more than {MAX_RUN_STEPS} steps; stopping the expansion")
        for child in children:
            if child.step.id in self.steps:
                raise CompositionError(f"step id '{child.step.id}' would be used twice in this run")
            self.steps[child.step.id] = child.step
            self.loaded.pipeline.steps.append(child.step)

    def continues_after_failure(self, iterate_step_id: str) -> bool:
        return c.parse_config(self.steps[iterate_step_id], c.ITERATE).on_failure == "continue"

    def forget(self, step_id: str) -> None:
        """A step sent back by a gate or an edge starts over."""
        self.expansions.pop(step_id, None)

    def run(self, step_id: str, child_states: dict[str, StepStatus], failures: dict[str, str],
            visit: int = 1) -> HostResult:
        step = self.steps[step_id]
        if step_id in self.expansions:
            return self._finish(step, child_states, failures)
        shown = self._shown(step_id)
        self.bases[step_id] = (step_id, shown) if visit <= 1 else (f"{step_id}.visit{visit}", f"{shown}#{visit}")
        return self._start(step)

    # ----- starting ---------------------------------------------------------------------------
    def _start(self, step: Step) -> HostResult:
        kind = c.composition_kind(step) or c.CONDITIONAL
        if kind == c.CONDITIONAL:
            return HostResult(message="routing by the previous step's outcome")
        starters = {c.GATE: self._gate, c.AGGREGATE: self._aggregate, c.SUB_PIPELINE: self._sub_pipeline,
                    c.BRANCH: self._branch, c.ITERATE: self._iterate, c.LOOP: self._loop_start}
        return starters[kind](step)

    def _sub_pipeline(self, step: Step) -> HostResult:
        prefix, shown = self.bases[step.id]
        children = self._child_run(step, step.pipeline, prefix, self._step_input(step), shown)
        self.expansions[step.id] = Expansion(c.SUB_PIPELINE, _ids(children), [(prefix, step.pipeline)])
        return HostResult(children=children, progress=(SUB_PIPELINE_STARTED, f"running sub-pipeline {step.pipeline}"))

    def _branch(self, step: Step) -> HostResult:
        config = c.parse_config(step, c.BRANCH)
        value = self._resolve(step, config.on).strip()
        name = config.cases.get(value, config.cases.get("default"))
        if name is None:
            raise CompositionError(f"branch value '{value[:80]}' has no matching case and no default")
        if name == c.BRANCH_SKIP:
            return HostResult(message=f"branch '{value[:80]}' -> skip")
        prefix, shown = self.bases[step.id]
        children = self._child_run(step, name, prefix, self._step_input(step), shown)
        self.expansions[step.id] = Expansion(c.BRANCH, _ids(children), [(prefix, name)])
        return HostResult(children=children, progress=(BRANCH_TAKEN, f"branch '{value[:80]}' -> {name}"))

    def _iterate(self, step: Step) -> HostResult:
        config = c.parse_config(step, c.ITERATE)
        items = values.json_list(self._resolve(step, config.over), "iterate.over")
        if len(items) > MAX_ITEMS:
            raise CompositionError(f"iterate.over holds {len(items)} items; at most {MAX_ITEMS} are run")
        trusted = "{{" not in config.over
        base, shown = self.bases[step.id]
        children, members = [], []
        for number, item in enumerate(items, 1):
            name = self._item_pipeline(step, item, trusted, number)
            prefix = f"{base}.{number}"
            item_input = self._resolve(step, step.input, item) if step.input else self.input_of(step.id)
            run = self._child_run(step, name, prefix, item_input, f"{shown}[{number}/{len(items)}]")
            children += [ChildStep(child.step, step.id, prefix, child.graph) for child in run]
            members.append((prefix, name))
        self.expansions[step.id] = Expansion(c.ITERATE, _ids(children), members)
        if not items:
            return self._collect_items(step, self.expansions.pop(step.id), {}, {})
        limit = (config.max_concurrent or len(items)) if config.mode == "parallel" else 1
        return HostResult(children=children, group_limit=limit,
                          progress=(ITERATING, f"iterating over {len(items)} items, {limit} at a time"))

    def _item_pipeline(self, step: Step, item: Any, trusted: bool, number: int) -> str:
        name = self._resolve(step, step.pipeline, item)
        if "{{" in step.pipeline and not trusted and name not in self.allowed_names:
            raise CompositionError(
                f"item {number} names pipeline '{name[:60]}', which no pipeline file of this run names; "
                "items read from an agent's output are data, never pipeline names outside the file's own list"
            )
        return name

    def _loop_start(self, step: Step) -> HostResult:
        return self._loop_iteration(step, c.parse_config(step, c.LOOP), 1)

    def _loop_iteration(self, step: Step, config: c.LoopConfig, iteration: int) -> HostResult:
        base, label = self.bases[step.id]
        prefix, shown = f"{base}.{iteration}", f"{label}[{iteration}/{config.max_iterations}]"
        children = self._child_run(step, step.pipeline, prefix, self._step_input(step), shown) if step.pipeline else []
        children += self._loop_sub_steps(step, config, prefix, shown)
        self.expansions[step.id] = Expansion(c.LOOP, _ids(children), [(prefix, step.pipeline or "")], iteration)
        progress = (LOOP_ITERATION, f"loop iteration {iteration}/{config.max_iterations}")
        return HostResult(children=children, progress=progress)

    def _loop_sub_steps(self, step: Step, config: c.LoopConfig, prefix: str, shown: str) -> list[ChildStep]:
        sub_steps = c.loop_sub_steps(config)
        composed = [sub for sub in sub_steps if c.composition_kind(sub) is not None]
        for skipped in (sub for sub in sub_steps if c.composition_kind(sub) is None):
            if prefix.endswith(".1"):
                self.notify(f"notice: loop {step.id}: step '{skipped.id}' is no composition step; "
                            "Wave's loop runs only composition steps, so it is not run")
        renamed = renamed_steps(composed, prefix)
        for original, child in zip(composed, renamed):
            self._register(child, f"{shown}/{original.id}", prefix, self.input_of(step.id), self.depths.get(step.id, 0))
            self.envs[child.id] = self.envs.get(step.id, {})
        return [ChildStep(child) for child in renamed]

    # ----- the host-only primitives ----------------------------------------------------------
    def _gate(self, step: Step) -> HostResult:
        config = c.parse_config(step, c.GATE)
        local_id = step.id.rsplit(".", 1)[-1]
        waiting = lambda message: self.emit(GATE_WAITING, step_id=step.id, persona="gate", message=message)
        decision = self.gatekeeper.resolve(step.id, local_id, config, waiting)
        if decision.target == c.GATE_FAIL:
            return HostResult(False, f"{decision.message}; the run stops", abort=True)
        return HostResult(message=decision.message, goto=decision.target)

    def _aggregate(self, step: Step) -> HostResult:
        config = c.parse_config(step, c.AGGREGATE)
        source = self._resolve(step, config.from_)
        if config.strategy == "merge_arrays":
            merged = values.merge_arrays(source, config.key)
            content = json.dumps(merged, indent=2, ensure_ascii=False).encode("utf-8")
            summary = f"merged {len(merged)} entries"
        else:
            content, summary = source.encode("utf-8"), f"{config.strategy}: {len(source)} characters"
        if len(content) > MAX_AGGREGATE_BYTES:
            raise CompositionError(f"the aggregate is {len(content)} bytes, over the {MAX_AGGREGATE_BYTES}-byte limit")
        file_name = PurePosixPath(config.into).name
        shown = self._keep_artifact(step, PurePosixPath(file_name).stem, file_name, content)
        return HostResult(message=f"aggregated into {file_name} ({summary})", artifacts=shown)

    # ----- finishing --------------------------------------------------------------------------
    def _finish(self, step: Step, child_states: dict, failures: dict) -> HostResult:
        expansion = self.expansions.pop(step.id)
        if expansion.kind == c.ITERATE:
            return self._collect_items(step, expansion, child_states, failures)
        failure = _first_failure(expansion.children, child_states, failures, self.steps)
        if failure:
            what = f"sub-pipeline {expansion.members[0][1]}" if expansion.members[0][1] else "loop iteration"
            return HostResult(False, f"{what} failed: {failure}")
        if expansion.kind == c.LOOP:
            return self._loop_next(step, expansion)
        artifacts = self._adopt_child_artifacts(step, expansion.children, expansion.members[0][0])
        return HostResult(message=f"sub-pipeline {expansion.members[0][1]} completed", artifacts=artifacts)

    def _loop_next(self, step: Step, expansion: Expansion) -> HostResult:
        config = c.parse_config(step, c.LOOP)
        done = expansion.iteration
        namespace = expansion.members[0][0]
        if config.until and values.condition_holds(self._resolve(step, config.until, namespace=namespace)):
            return HostResult(message=f"loop ended at iteration {done}: its until condition holds")
        if done < config.max_iterations:
            return self._loop_iteration(step, config, done + 1)
        return HostResult(message=f"loop stopped at its cap: {config.max_iterations} iterations")

    # ----- shared pieces ----------------------------------------------------------------------
    def _child_run(self, step: Step, name: str, prefix: str, input_text: str, shown: str) -> list[ChildStep]:
        depth = self.depths.get(step.id, 0) + 1
        if depth > MAX_DEPTH:
            raise CompositionError(f"sub-pipelines nest deeper than {MAX_DEPTH} at {shown} (a pipeline calling itself?)")
        child = load_child_pipeline(name, self.loaded.repo, self.ceilings)
        missing = self.missing_tools_of(child.pipeline)
        if missing:
            raise CompositionError(f"sub-pipeline '{name}': {preflight_message(missing)}")
        with self._lock:
            self.personas.update(child.personas)
            self.allowed_names |= literal_pipeline_names(child.pipeline)
        renamed = renamed_steps(child.pipeline.steps, prefix)
        self.child_outputs[prefix] = child.pipeline.pipeline_outputs
        env = {**self.envs.get(step.id, {}), **c.sub_pipeline_config(step).env}
        for original, renamed_step in zip(child.pipeline.steps, renamed):
            self._register(renamed_step, f"{shown}/{original.id}", prefix, input_text, depth)
            self.pipeline_names[renamed_step.id] = child.name
            self.envs[renamed_step.id] = env
            self._point_at_parent_artifacts(step, renamed_step, name)
        graph = prefix if c.is_graph_pipeline(child.pipeline.steps) else None
        if graph:
            self.graph_limits[prefix] = child.pipeline.max_step_visits
        return [ChildStep(renamed_step, graph=graph) for renamed_step in renamed]

    def _point_at_parent_artifacts(self, step: Step, child: Step, name: str) -> None:
        """Wave's `inject_artifacts: [{pipeline: PARENT, artifact: X}]`: X of the direct parent's steps."""
        parent_name = self.pipeline_names.get(step.id, self.loaded.name)
        namespace = self.namespaces.get(step.id, "")
        for injection in list(child.memory.inject_artifacts):
            if injection.step is not None or injection.pipeline is None:
                continue
            producer = self._parent_producer(namespace, injection.artifact) if injection.pipeline == parent_name else None
            if producer is None and injection.optional:
                child.memory.inject_artifacts.remove(injection)
            elif producer is None:
                raise CompositionError(f"sub-pipeline {name}: step {child.id.rsplit('.', 1)[-1]} injects artifact "
                                       f"'{injection.artifact}' of pipeline {injection.pipeline}, which its parent "
                                       f"({parent_name}) has not produced")
            else:
                self._check_parent_type(injection, producer, name, child.id)
                injection.step, injection.pipeline = producer, None

    def _check_parent_type(self, injection, producer: str, name: str, child_id: str) -> None:
        """The inject's `type` against the type the parent's step declares (as for a step's own inject)."""
        declared = injection.conflicting_type(self.steps[producer])
        if declared:
            raise CompositionError(f"sub-pipeline {name}: step {child_id.rsplit('.', 1)[-1]} expects artifact "
                                   f"'{injection.artifact}' of type {injection.type}; its parent's step "
                                   f"{producer} declares it as {declared} (artifact type mismatch)")

    def _parent_producer(self, namespace: str, artifact: str) -> str | None:
        """The last step of the parent's run (same namespace) holding an artifact of that name."""
        siblings = [sid for sid in self.steps if self.namespaces.get(sid, "") == namespace]
        holders = [sid for sid in siblings if self.read_artifact(sid, artifact) is not None]
        return holders[-1] if holders else None

    def _result(self, *args, **kwargs) -> HostResult:
        return HostResult(*args, **kwargs)

    def _failure_among(self, step_ids, states, failures, steps) -> str | None:
        return _first_failure(step_ids, states, failures, steps)

    def _register(self, step: Step, shown: str, namespace: str, input_text: str, depth: int) -> None:
        self.labels[step.id], self.namespaces[step.id] = shown, namespace
        self.inputs[step.id], self.depths[step.id] = input_text, depth

    def _shown(self, step_id: str) -> str:
        return self.labels.get(step_id, step_id)

    def _step_input(self, step: Step) -> str:
        return self._resolve(step, step.input) if step.input else self.input_of(step.id)

    def _resolve(self, step: Step, text: str, item: Any = None, namespace: str | None = None) -> str:
        scope = namespace if namespace is not None else self.namespaces.get(step.id, "")
        return values.resolve_references(text, self.input_of(step.id), self.read_artifact, item, scope,
                                         self.envs.get(step.id), self.artifact_names)

def _ids(children: list[ChildStep]) -> list[str]:
    return [child.step.id for child in children]


def _first_failure(step_ids: list[str], states: dict, failures: dict, steps: dict) -> str | None:
    for step_id in step_ids:
        if states.get(step_id) is StepStatus.FAILED and not steps[step_id].optional:
            return f"step {step_id}: {failures.get(step_id, 'failed')}"
    return None


