"""Load a pipeline a composition step names, and give its steps ids inside the parent's run.

A sub-pipeline runs inside the same run: its steps join the parent's plan under ids prefixed by the
composition step (`review.scan`, `audits.3.scan` for the third item), so they share the run's
gateway, budget, clone and record. Names are looked up only as plain names in the repository's
`.wave/pipelines`, `.agents/pipelines` and the built-ins (never a path), and nesting is capped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wave_sandbox.errors import CompositionError, ConfigurationError
from wave_sandbox.spec.composition import (
    BRANCH_SKIP, GATE_FAIL, ITERATE, LOOP, composition_kind, loop_sub_steps, parse_config,
)
from wave_sandbox.spec.loader import LoadedPipeline, find_pipeline_file, load_pipeline, looks_like_path
from wave_sandbox.spec.models import Pipeline, Step
from wave_sandbox.spec.validation import SAFE_NAME_PATTERN

MAX_DEPTH = 4
"""Sub-pipelines inside sub-pipelines, at most this deep (a pipeline that calls itself stops here)."""
MAX_RUN_STEPS = 500
"""Steps one run may hold once every composition step has expanded."""
MAX_ITEMS = 200
"""Items one iterate step may fan out over."""


def load_child_pipeline(name: str, repo: Path, ceilings: Any) -> LoadedPipeline:
    """The pipeline `name` names (CompositionError saying why it cannot run as a sub-pipeline)."""
    if looks_like_path(name) or not SAFE_NAME_PATTERN.match(name):
        raise CompositionError(f"'{name[:80]}' is not a pipeline name; sub-pipelines are named, never paths")
    try:
        loaded = load_pipeline(find_pipeline_file(name, repo), repo, ceilings)
    except ConfigurationError as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CompositionError(f"sub-pipeline '{name}' cannot run: {first}") from error
    return loaded


def renamed_steps(steps: list[Step], prefix: str) -> list[Step]:
    """Copies of `steps` with ids `prefix.id`; dependencies, injections, gate, rework and edge targets follow."""
    local_ids = {step.id for step in steps}

    def rename(step_id: str | None) -> str | None:
        return f"{prefix}.{step_id}" if step_id in local_ids else step_id

    renamed = []
    for step in steps:
        copy = step.model_copy(deep=True)
        copy.id = rename(step.id)
        copy.dependencies = [rename(dependency) for dependency in step.dependencies if dependency in local_ids]
        for injection in copy.memory.inject_artifacts:
            injection.step = rename(injection.step)
        _rename_gate_targets(copy, rename)
        _rename_rework_targets(copy, rename)
        for edge in copy.edges or []:
            edge.target = rename(edge.target)  # `_complete` is no step id: it stays
        renamed.append(copy)
    return renamed


def _rename_gate_targets(step: Step, rename) -> None:
    if isinstance(step.gate, dict):
        for choice in step.gate.get("choices") or []:
            if isinstance(choice, dict) and choice.get("target") not in (None, GATE_FAIL):
                choice["target"] = rename(choice["target"])


def _rename_rework_targets(step: Step, rename) -> None:
    if step.retry is not None and isinstance(step.retry.rework_step, str):
        step.retry.rework_step = rename(step.retry.rework_step)
    handover = step.handover
    contracts = [] if handover is None else ([handover.contract] if handover.contract else []) + handover.contracts
    for contract in contracts:
        if isinstance(contract.rework_step, str):
            contract.rework_step = rename(contract.rework_step)


def literal_pipeline_names(pipeline: Pipeline) -> set[str]:
    """The pipeline names a file writes out itself: the only names an agent's items may select."""
    names: set[str] = set()
    for step in pipeline.steps:
        names |= _names_of_step(step)
    return names


def _names_of_step(step: Step) -> set[str]:
    names = {step.pipeline} if isinstance(step.pipeline, str) and "{{" not in step.pipeline else set()
    kind = composition_kind(step)
    try:
        config = parse_config(step, kind) if kind in (ITERATE, LOOP, "branch") else None
    except ValueError:
        return names
    if kind == "branch":
        names |= {name for name in config.cases.values() if name != BRANCH_SKIP}
    if kind == ITERATE and "{{" not in config.over:
        names |= _literal_items(config.over)
    if kind == LOOP:
        for sub_step in _safe_sub_steps(config):
            names |= _names_of_step(sub_step)
    return names


def _literal_items(text: str) -> set[str]:
    import json

    try:
        items = json.loads(text)
    except ValueError:
        return set()
    return {item for item in items if isinstance(item, str)} if isinstance(items, list) else set()


def _safe_sub_steps(config) -> list[Step]:
    try:
        return loop_sub_steps(config)
    except ValueError:
        return []


def composition_needs_clone(loaded: LoadedPipeline, ceilings: Any) -> bool:
    """Whether a pipeline this one may call writes to the repository (the run then prepares its clone)."""
    seen: set[str] = set()
    names = literal_pipeline_names(loaded.pipeline)
    for _ in range(MAX_DEPTH):
        found: set[str] = set()
        for name in names - seen:
            seen.add(name)
            try:
                child = load_child_pipeline(name, loaded.repo, ceilings)
            except CompositionError:
                continue  # the step fails with this reason when it runs
            if any(step.is_readwrite for step in child.pipeline.steps):
                return True
            found |= literal_pipeline_names(child.pipeline)
        names = found
    return False
