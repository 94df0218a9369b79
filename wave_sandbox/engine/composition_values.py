"""The values composition steps compute with: Wave's `{{ … }}` references, read from the run record.

`{{ input }}`, `{{ item }}` / `{{ item.field }}`, `{{ STEP.output }}` (the step's first artifact),
`{{ STEP.output.field }}` (the field in the first of the step's artifacts that has it: a sub-pipeline
step holds its child's artifacts, its `pipeline_outputs` first) and `{{ STEP.out.NAME }}` /
`{{ STEP.out.NAME.field }}` (a named artifact), as Wave's executor_templates.go resolves them; an
unknown reference is left as it is, as Wave leaves it.
Everything read here is data written by agents: it is parsed with size bounds, substituted as text,
never re-expanded, and never executed.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from wave_sandbox.errors import CompositionError

REFERENCE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
MAX_VALUE_BYTES = 8 * 1024 * 1024
"""The most of one artifact a composition step reads (iterate lists, aggregate inputs, conditions)."""
OUTPUT_WORDS = ("output", "out")

ArtifactReader = Callable[[str, str | None], bytes | None]
"""(step id, artifact name or None for the step's first) -> the artifact's bytes, or None."""
ArtifactNames = Callable[[str], "list[str] | None"]
"""step id -> the names of the step's artifacts, in the order a field is looked for in them."""


def resolve_references(text: str, input_text: str, read: ArtifactReader, item: Any = None,
                       namespace: str = "", env: dict[str, str] | None = None,
                       artifact_names: ArtifactNames | None = None) -> str:
    """Substitute every reference this module knows in one pass (what is substituted is not re-read).

    `{{ env.KEY }}` is a sub-pipeline's `config.env` value, inherited from the parents (Wave's parentEnv)."""

    def substitute(match: re.Match) -> str:
        expression = match.group(1).strip()
        if expression.startswith("env.") and env and expression[4:] in env:
            return env[expression[4:]]
        value = reference_value(expression, input_text, read, item, namespace, artifact_names)
        return match.group(0) if value is None else value

    return REFERENCE.sub(substitute, text)


def reference_value(expression: str, input_text: str, read: ArtifactReader, item: Any, namespace: str,
                    artifact_names: ArtifactNames | None = None) -> str | None:
    parts = expression.split(".")
    if expression == "input":
        return input_text
    if parts[0] == "item" and item is not None:
        return as_text(extract_field(item, parts[1:]))
    position = next((i for i, part in enumerate(parts) if part in OUTPUT_WORDS and i > 0), None)
    if position is None:
        return None
    step_id, rest = ".".join(parts[:position]), parts[position:]
    name, fields = (rest[1], rest[2:]) if rest[0] == "out" and len(rest) > 1 else (None, rest[1:])
    if name is None and fields and artifact_names is not None:
        return _field_of_any_artifact(read, artifact_names, step_id, fields, namespace)
    content = _read_scoped(read, step_id, name, namespace)
    if content is None:
        return None
    if not fields:
        return content.decode("utf-8", errors="replace")
    return _field_text(content, fields)


def _field_text(content: bytes, fields: list[str]) -> str | None:
    try:
        return as_text(extract_field(load_json(content), fields))
    except (CompositionError, KeyError, IndexError, TypeError):
        return None


def _field_of_any_artifact(read: ArtifactReader, artifact_names: ArtifactNames, step_id: str,
                           fields: list[str], namespace: str) -> str | None:
    """Wave's legacy `{{ STEP.output.field }}`: every artifact of the step is a candidate, the first
    that has the field wins (the step is found in the nearest scope, as `_read_scoped` finds it)."""
    for scoped in _scoped_ids(step_id, namespace):
        names = artifact_names(scoped)
        if not names:
            continue
        for name in names:
            content = read(scoped, name)
            value = _field_text(content, fields) if content is not None else None
            if value is not None:
                return value
        return None
    return None


def _read_scoped(read: ArtifactReader, step_id: str, name: str | None, namespace: str) -> bytes | None:
    """A step named inside a sub-pipeline is its sibling there first, then one of each enclosing run."""
    for scoped in _scoped_ids(step_id, namespace):
        content = read(scoped, name)
        if content is not None:
            return content
    return None


def _scoped_ids(step_id: str, namespace: str) -> list[str]:
    scopes = namespace.split(".") if namespace else []
    return [".".join(scopes[:depth] + [step_id]) for depth in range(len(scopes), -1, -1)]


def extract_field(value: Any, fields: list[str]) -> Any:
    for field in fields:
        if isinstance(value, list) and field.isdigit():
            value = value[int(field)]
        elif isinstance(value, dict):
            value = value[field]
        else:
            raise KeyError(field)
    return value


def as_text(value: Any) -> str:
    """A string as itself, anything else as JSON (as Wave renders a raw JSON value)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def load_json(content: bytes | str) -> Any:
    raw = content.encode("utf-8") if isinstance(content, str) else content
    if len(raw) > MAX_VALUE_BYTES:
        raise CompositionError(f"a value of {len(raw)} bytes is over the {MAX_VALUE_BYTES}-byte limit")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise CompositionError(f"not valid JSON: {str(error)[:120]}") from error


def json_list(text: str, what: str) -> list[Any]:
    """`text` as a JSON array (CompositionError naming `what` when it is not one)."""
    try:
        value = load_json(text)
    except CompositionError as error:
        raise CompositionError(f"{what} did not resolve to a JSON array: {error}; got {text[:80]!r}") from error
    if not isinstance(value, list):
        raise CompositionError(f"{what} did not resolve to a JSON array; got {text[:80]!r}")
    return value


def merge_arrays(text: str, key: str | None) -> list[Any]:
    """Wave's mergeJSONArrays: flatten an array of arrays (or of objects' `key` arrays)."""
    elements = json_list(text, "aggregate.from")
    if key:
        merged = []
        for index, element in enumerate(elements):
            inner = element.get(key) if isinstance(element, dict) else None
            if not isinstance(inner, list):
                raise CompositionError(f"aggregate: element {index} has no array under '{key}'")
            merged.extend(inner)
        return merged
    if not any(isinstance(element, list) for element in elements):
        return elements
    return [inner for element in elements for inner in (element if isinstance(element, list) else [element])]


def condition_holds(text: str) -> bool:
    """Wave's loop-until: the resolved text, trimmed, is true, done or yes."""
    return text.strip() in ("true", "done", "yes")
