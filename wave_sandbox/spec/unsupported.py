"""Refuse, one line per use, the Wave features that parse but that wave-sandbox cannot run yet.

Checked on the raw YAML data rather than the models, so a refusal is reported even when another
part of the same step is malformed. A field counts as used when it holds anything but Go's zero
value (`false`, `0`, `""`, `[]`, `{}`, null): Wave reads those as "not set", and so do we.

Honoured now (DESIGN.md): kind, metadata, input.source, step id, persona, dependencies, optional,
timeout_minutes, model, memory (fresh, step-injected artifacts), workspace.mount (source, target,
mode, subset_from), workspace type worktree with branch and base, command steps (type command with
script, exec.type command with command and args), exec (prompt with source or source_path), output_artifacts (file), permissions.allowed_tools
(plain Wave tool names), handover.contract/contracts of the types json_schema, non_empty_file and
markdown_sections (source, schema_path, must_pass, on_failure retry|halt, max_retries 1). Since issue 12:
step retry and rework_only, every on_failure of Wave (fail, warn, continue, skip, rework, rejected), and
the contract types test_suite, agent_review, llm_judge, event_contains, source_diff, test_diff and
test_count_baseline, then format and markdown_spec. Descriptive fields (metadata.description/release/category, input.schema,
input.example) are accepted as they change nothing about a run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from wave_sandbox.spec.composition import composition_honours
from wave_sandbox.contracts.model import CONTRACT_TYPES, ON_FAILURE_CHOICES
from wave_sandbox.spec.problems import ProblemCollector
from wave_sandbox.spec.tool_names import WAVE_TOOL_TO_AGENT_TOOL
from wave_sandbox.spec.yaml_loader import Path_

NOT_SUPPORTED = "is not supported by wave-sandbox yet"

REFUSED_CONTRACT_FIELDS = ("schema", "convergence_window", "convergence_min_improvement")
CONTRACT_PLACES: tuple[Path_, ...] = (("steps", "*", "handover", "contract"), ("steps", "*", "handover", "contracts", "*"))
HONOURED_RETRIES = (1,)

REFUSED_FIELDS: dict[Path_, tuple[str, ...]] = {
    (): ("hooks", "max_step_visits"),
    ("input",): ("label_filter", "batch_size", "path"),
    ("steps", "*"): (
        "concurrency", "strategy", "edges", "max_visits",
        "pipeline", "input", "config", "iterate", "branch", "gate", "loop", "aggregate",
        "validation", "contexts",
    ),
    ("steps", "*", "workspace"): ("root", "ref"),
    ("steps", "*", "handover"): ("on_review_fail", "target_step"),
    ("steps", "*", "handover", "contract"): REFUSED_CONTRACT_FIELDS,
    ("steps", "*", "handover", "contracts", "*"): REFUSED_CONTRACT_FIELDS,
}
"""Accepted with Wave's meaning (wave_fields.py): pipeline_outputs, chat_context, skills, requires (install
refused), input.type, step adapter (claude), outcomes, thread, fidelity, max_concurrent_agents, skills,
inject schema_path/optional/type/pipeline (the parent's artifact, in a sub-pipeline), permissions.deny and tool
patterns (advisory), handover.compaction."""


@dataclass(frozen=True)
class RefusedValue:
    """A field whose presence is fine but only some of whose values we can run."""

    path: Path_
    accepted: tuple[Any, ...]
    hint: str


REFUSED_VALUES = (
    RefusedValue(
        ("input", "source"), ("cli", "stdin", "file"), "use cli: the INPUT argument, --input-file or stdin"
    ),
    RefusedValue(("steps", "*", "exec", "type"), ("prompt", "command"), "only 'prompt' or 'command'"),
    RefusedValue(("steps", "*", "type"), ("command", "conditional", "gate", "pipeline"),
                 "only 'command' or 'conditional'; 'gate' and 'pipeline' as labels of gate and pipeline steps, as Wave reads them"),
    RefusedValue(("steps", "*", "workspace", "type"), ("worktree",), "only 'worktree'"),
    RefusedValue(("steps", "*", "memory", "strategy"), ("fresh",), "only 'fresh'"),
    RefusedValue(("steps", "*", "output_artifacts", "*", "source"), ("file",), "only 'file'"),
    *(RefusedValue(place + ("type",), CONTRACT_TYPES, "only " + ", ".join(CONTRACT_TYPES))
      for place in CONTRACT_PLACES),
    *(RefusedValue(place + ("on_failure",), ON_FAILURE_CHOICES, "only " + ", ".join(ON_FAILURE_CHOICES))
      for place in CONTRACT_PLACES),
)


def is_zero_value(value: Any) -> bool:
    """Go's zero values, which Wave treats as "not set"."""
    return value is None or value is False or value == 0 or value == "" or value == [] or value == {}


def add_unsupported_problems(data: Any, collector: ProblemCollector) -> set[int]:
    """Add one problem per refused feature in use; return the indexes of the steps that use one."""
    flagged: set[Path_] = set()
    for parent_pattern, fields in REFUSED_FIELDS.items():
        for parent_path, parent in matching_paths(data, parent_pattern):
            if isinstance(parent, dict):
                flagged |= _refuse_fields(parent, parent_path, fields, collector)
    for refused in REFUSED_VALUES:
        flagged |= _refuse_values(data, refused, collector)
    flagged |= _refuse_directory_artifacts(data, collector)
    flagged |= _refuse_retry_counts(data, collector)
    return {path[1] for path in flagged if len(path) > 1 and path[0] == "steps" and isinstance(path[1], int)}


def matching_paths(data: Any, pattern: Path_, prefix: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every concrete path in `data` matching `pattern` (`*` matches each list item), with its value."""
    if not pattern:
        yield prefix, data
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*" and isinstance(data, list):
        for index, item in enumerate(data):
            yield from matching_paths(item, rest, prefix + (index,))
    elif isinstance(data, dict) and head in data:
        yield from matching_paths(data[head], rest, prefix + (head,))


def _refuse_fields(
    parent: dict, parent_path: Path_, fields: tuple[str, ...], collector: ProblemCollector
) -> set[Path_]:
    flagged = set()
    for field in fields:
        if field in parent and not is_zero_value(parent[field]) and not composition_honours(parent_path, field, parent[field]):
            collector.add(parent_path + (field,), f"'{field}' {NOT_SUPPORTED}", where_path=parent_path)
            flagged.add(parent_path + (field,))
    return flagged


def _refuse_values(data: Any, refused: RefusedValue, collector: ProblemCollector) -> set[Path_]:
    flagged = set()
    for path, value in matching_paths(data, refused.path):
        if isinstance(value, str) and value and value not in refused.accepted:
            message = f"{path[-1]} '{value}' {NOT_SUPPORTED} ({refused.hint})"
            collector.add(path, message, where_path=path[:-1])
            flagged.add(path)
    return flagged


def _refuse_tool_patterns(data: Any, collector: ProblemCollector) -> set[Path_]:
    flagged = set()
    for path, tool in matching_paths(data, ("steps", "*", "permissions", "allowed_tools", "*")):
        if isinstance(tool, str) and tool not in WAVE_TOOL_TO_AGENT_TOOL:
            known = ", ".join(WAVE_TOOL_TO_AGENT_TOOL)
            message = f"tool '{tool}' {NOT_SUPPORTED} (use one of {known})"
            collector.add(path, message, where_path=path[:-1])
            flagged.add(path)
    return flagged


def _refuse_directory_artifacts(data: Any, collector: ProblemCollector) -> set[Path_]:
    """Artifacts are collected as single files; Wave's `type: directory` would fail at run time."""
    flagged = set()
    for path, kind in matching_paths(data, ("steps", "*", "output_artifacts", "*", "type")):
        if kind == "directory":
            collector.add(path, f"type 'directory' {NOT_SUPPORTED} (an artifact is one file)", where_path=path[:-1])
            flagged.add(path)
    return flagged


def _refuse_retry_counts(data: Any, collector: ProblemCollector) -> set[Path_]:
    """A failed contract goes back to the agent once; Wave's larger retry counts are not honoured yet."""
    flagged = set()
    for place in CONTRACT_PLACES:
        for path, count in matching_paths(data, place + ("max_retries",)):
            parent = _value_at(data, path[:-1])
            if isinstance(parent, dict) and parent.get("on_failure") not in (None, "retry"):
                continue  # Wave reads max_retries only as rework rounds; other policies ignore it
            if isinstance(count, int) and not is_zero_value(count) and count not in HONOURED_RETRIES:
                message = f"max_retries {count} {NOT_SUPPORTED} (a failed contract goes back to the agent once: use 1)"
                collector.add(path, message, where_path=path[:-1])
                flagged.add(path)
    return flagged


def _value_at(data: Any, path: Path_) -> Any:
    for key in path:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data
