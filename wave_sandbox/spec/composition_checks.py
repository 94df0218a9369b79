"""`validate`'s checks of composition steps and graph edges (spec.composition), one line per problem.

A composition step runs on the host: it needs no persona or prompt. The pipelines it names are looked
up only by plain name in the repository's `.wave/pipelines`, `.agents/pipelines` and the built-ins,
never by path, so a pipeline file cannot reach another file on the host.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from wave_sandbox.resources import builtin_pipelines_dir
from wave_sandbox.spec import composition as c
from wave_sandbox.spec.graph import upstream_of
from wave_sandbox.spec.models import Step
from wave_sandbox.spec.validation import SAFE_NAME_PATTERN, IndexedStep, SemanticCheck

MAX_LOOP_ITERATIONS = 50
"""Wave-sandbox's ceiling on a loop's max_iterations (every model call also counts in the run's budget)."""
MAX_STEP_VISITS, MAX_GRAPH_VISITS = 50, 200
"""Ceilings on a graph's max_visits (per step) and max_step_visits (in all): a graph of command steps
spends no tokens, so only these caps bound it. Wave's defaults (10 and 50) apply to 0 or unset."""
NETWORK_GATE = "needs network access to the forge, which wave-sandbox steps and the host-side engine do not use"
NOT_SUPPORTED = "is not supported by wave-sandbox yet"


def check_composition(check: SemanticCheck, raw: Any) -> None:
    """Every composition and graph rule, over every step that parsed."""
    check_pipeline_level(check, raw)
    for indexed in check.steps:
        check_composition_step(check, indexed)


def check_composition_step(check: SemanticCheck, indexed: IndexedStep) -> None:
    step = indexed.step
    kind = c.composition_kind(step)
    if kind is not None and kind != c.SUB_PIPELINE:
        try:
            config = c.parse_config(step, kind)
        except ValidationError as error:
            check.add(indexed.path(kind), f"{kind}: {c.first_validation_message(error)}")
            config = None
        if config is not None:
            CHECKS[kind](check, indexed, config)
    if step.pipeline is not None or step.config is not None:
        _check_sub_pipeline(check, indexed, kind)
    _check_graph_fields(check, indexed)


def check_pipeline_level(check: SemanticCheck, raw: Any) -> None:
    visits = raw.get("max_step_visits") if isinstance(raw, dict) else None
    if visits is not None and (not isinstance(visits, int) or visits < 0):
        check.add(("max_step_visits",), f"should be a number above 0, got {visits}")
    elif visits is not None and visits > MAX_GRAPH_VISITS:
        check.add(("max_step_visits",), f"max_step_visits should be 0 (Wave's default, 50) to {MAX_GRAPH_VISITS}, "
                                        f"got {visits}")


def pipeline_name_problem(check: SemanticCheck, name: str) -> str | None:
    """Why `name` cannot name a sub-pipeline here (None when it can)."""
    if "/" in name or name.endswith((".yaml", ".yml")) or not SAFE_NAME_PATTERN.match(name):
        return f"pipeline '{name}' should be a pipeline's plain name, never a path"
    folders = (check.repo / ".wave" / "pipelines", check.repo / ".agents" / "pipelines", builtin_pipelines_dir())
    if not any((folder / f"{name}{suffix}").is_file() for folder in folders for suffix in (".yaml", ".yml")):
        return f"no pipeline named '{name}' in the repository's .wave/pipelines, .agents/pipelines or the built-ins"
    return None


def _check_sub_pipeline(check: SemanticCheck, indexed: IndexedStep, kind: str | None) -> None:
    step = indexed.step
    name = step.pipeline
    if isinstance(name, str) and "{{" in name:
        if kind != c.ITERATE:
            check.add(indexed.path("pipeline"), "a templated pipeline name is only honoured in an iterate step")
    elif isinstance(name, str) and name:
        problem = pipeline_name_problem(check, name)
        if problem:
            check.add(indexed.path("pipeline"), problem)
    elif name is not None:
        check.add(indexed.path("pipeline"), "pipeline should be a pipeline's name")
    try:
        config = c.sub_pipeline_config(step)
    except ValidationError as error:
        check.add(indexed.path("config"), f"config: {c.first_validation_message(error)}")
        return
    for field in ("stop_condition", "timeout", "max_cycles"):  # inject, extract: artifacts flow anyway
        if getattr(config, field):
            check.add(indexed.path("config", field), f"'{field}' {NOT_SUPPORTED}", indexed.path("config"))


def _check_iterate(check: SemanticCheck, indexed: IndexedStep, config: c.IterateConfig) -> None:
    if not indexed.step.pipeline:
        check.add(indexed.path("iterate"), "an iterate step needs a pipeline to run for each item")
    if config.max_concurrent < 0:
        check.add(indexed.path("iterate", "max_concurrent"), "should be 0 (all) or more")


def _check_branch(check: SemanticCheck, indexed: IndexedStep, config: c.BranchConfig) -> None:
    if not config.cases:
        check.add(indexed.path("branch", "cases"), "a branch needs at least one case")
    for value, name in config.cases.items():
        if name != c.BRANCH_SKIP:
            problem = pipeline_name_problem(check, name)
            if problem:
                check.add(indexed.path("branch", "cases", value), problem)


def _check_gate(check: SemanticCheck, indexed: IndexedStep, config: c.GateConfig) -> None:
    where = indexed.path("gate", "type")
    if config.type in c.GATE_TYPES_NEEDING_NETWORK:
        check.add(where, f"gate type '{config.type}' {NETWORK_GATE}")
    elif config.type not in c.GATE_TYPES_RUN:
        check.add(where, f"unknown gate type '{config.type}' (approval, timer, pr_merge or ci_pass)")
    if config.type == "timer" and not config.timeout:
        check.add(indexed.path("gate"), "a timer gate needs a timeout such as 30s")
    _check_duration(check, indexed.path("gate", "timeout"), config.timeout)
    _check_gate_choices(check, indexed, config)


def _check_gate_choices(check: SemanticCheck, indexed: IndexedStep, config: c.GateConfig) -> None:
    keys: set[str] = set()
    already_ran = _visited_before_the_gate(check, indexed)
    for position, choice in enumerate(config.choices):
        place = indexed.path("gate", "choices", position)
        if choice.key in keys:
            check.add(place + ("key",), f"duplicate key '{choice.key}'", place)
        keys.add(choice.key)
        if choice.target and choice.target != c.GATE_FAIL and choice.target not in check.all_step_ids:
            check.add(place + ("target",), f"target '{choice.target}' is not a step id or _fail", place)
        elif choice.target in already_ran:
            check.add(place + ("target",), f"target '{choice.target}' has always run before this gate, and in a "
                      "graph pipeline only edges go back to a step that ran: route back with an edge", place)
    if config.default and config.default not in keys:
        check.add(indexed.path("gate", "default"), f"default '{config.default}' matches no choice key")


def _visited_before_the_gate(check: SemanticCheck, indexed: IndexedStep) -> set[str]:
    """In a graph pipeline (edges), the gate itself and the steps it depends on: Wave's graph walker visits
    them before the gate, follows no gate choice, and fails a gate whose choice names a visited step."""
    if not c.is_graph_pipeline([other.step for other in check.steps]):
        return set()
    return upstream_of(indexed.step.id, check.dependencies()) | {indexed.step.id}


def _check_loop(check: SemanticCheck, indexed: IndexedStep, config: c.LoopConfig) -> None:
    where = indexed.path("loop", "max_iterations")
    if not 0 < config.max_iterations <= MAX_LOOP_ITERATIONS:
        check.add(where, f"max_iterations should be 1 to {MAX_LOOP_ITERATIONS}, got {config.max_iterations}")
    try:
        sub_steps = c.loop_sub_steps(config)
    except ValidationError as error:
        check.add(indexed.path("loop", "steps"), f"loop.steps: {c.first_validation_message(error)}")
        return
    for position, sub_step in enumerate(sub_steps):
        _check_loop_sub_step(check, indexed, position, sub_step)
    if not sub_steps and not indexed.step.pipeline:
        check.add(indexed.path("loop"), "a loop needs a pipeline or steps to repeat")


def _check_loop_sub_step(check: SemanticCheck, indexed: IndexedStep, position: int, sub_step: Step) -> None:
    place = indexed.path("loop", "steps", position)
    if not isinstance(sub_step.pipeline, str) or "{{" in sub_step.pipeline:
        return  # Wave's loop runs only composition sub-steps: the others are skipped with a notice
    problem = pipeline_name_problem(check, sub_step.pipeline)
    if problem:
        check.add(place + ("pipeline",), problem, place)


def _check_aggregate(check: SemanticCheck, indexed: IndexedStep, config: c.AggregateConfig) -> None:
    if config.strategy not in c.AGGREGATE_STRATEGIES:
        check.add(indexed.path("aggregate", "strategy"),
                  f"unknown strategy '{config.strategy}' (merge_arrays, concat or reduce)")
    file_name = config.into.rstrip("/").rsplit("/", 1)[-1]
    if not SAFE_NAME_PATTERN.match(file_name):
        check.add(indexed.path("aggregate", "into"), f"into '{config.into}' should end in a plain file name")


def _check_graph_fields(check: SemanticCheck, indexed: IndexedStep) -> None:
    step = indexed.step
    if step.type == c.CONDITIONAL and not step.edges:
        check.add(indexed.path("type"), "a conditional step needs edges to route by")
    if step.max_visits is not None and step.max_visits < 0:
        check.add(indexed.path("max_visits"), f"should be a number above 0, got {step.max_visits}")
    elif step.max_visits is not None and step.max_visits > MAX_STEP_VISITS:
        check.add(indexed.path("max_visits"), f"max_visits should be 0 (Wave's default, 10) to {MAX_STEP_VISITS}, "
                                              f"got {step.max_visits}")
    for position, edge in enumerate(step.edges):
        place = indexed.path("edges", position)
        if edge.target != c.EDGE_COMPLETE and edge.target not in check.all_step_ids:
            check.add(place + ("target",), f"target '{edge.target}' is not a step id or _complete", place)
        try:
            c.parse_condition(edge.condition)
        except ValueError as error:
            check.add(place + ("condition",), str(error), place)


def _check_duration(check: SemanticCheck, where: tuple, value: str | None) -> None:
    if value:
        try:
            c.parse_duration(value)
        except ValueError as error:
            check.add(where, str(error), where[:-1])


CHECKS = {c.ITERATE: _check_iterate, c.BRANCH: _check_branch, c.GATE: _check_gate, c.LOOP: _check_loop,
          c.AGGREGATE: _check_aggregate}
