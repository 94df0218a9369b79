"""Turn pydantic's validation errors into problems that name the key, its place and its line.

pydantic reports `loc` tuples such as `("steps", 0, "workspace", "mnt")`, sometimes with union
tags mixed in; we follow each `loc` through the raw YAML data to find the real path, then ask the
YAML document for its line.
"""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from wave_sandbox.spec.problems import ProblemCollector
from wave_sandbox.spec.yaml_loader import Path_

TYPE_WORDS = {
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
    "dict_type": "a mapping (key: value lines)",
    "list_type": "a list",
    "string_type": "a string",
}


def add_schema_problems(
    error: ValidationError, raw: Any, collector: ProblemCollector, root_model: type[BaseModel],
    base_path: Path_ = (),
) -> None:
    """Add one problem per pydantic error; `base_path` places `raw` inside the collector's document."""
    for detail in error.errors():
        path, absent_field = follow_loc(detail["loc"], raw)
        _add_one(detail, base_path + path, absent_field, collector, root_model, base_path)


def follow_loc(loc: tuple, raw: Any) -> tuple[Path_, str | None]:
    """The part of `loc` that exists in `raw`, plus the trailing field name when it is absent."""
    path: list[str | int] = []
    node = raw
    for position, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif position == len(loc) - 1 and isinstance(part, str) and isinstance(node, dict):
            return tuple(path), part
    return tuple(path), None


def _add_one(
    detail: dict, path: Path_, absent_field: str | None, collector: ProblemCollector,
    root_model: type[BaseModel], base_path: Path_,
) -> None:
    kind = detail["type"]
    if kind == "extra_forbidden" and path:
        key = path[-1]
        allowed = allowed_fields_at(root_model, path[len(base_path):-1])
        message = f"unknown field '{key}'" + did_you_mean(str(key), allowed)
        collector.add(path, message, where_path=path[:-1])
    elif kind == "missing" and absent_field is not None:
        collector.add(path, f"missing required field '{absent_field}'")
    else:
        collector.add(path, describe_value_error(detail))


def describe_value_error(detail: dict) -> str:
    """`should be a string, got 12` from pydantic's `Input should be a valid string`."""
    kind = detail["type"]
    if kind in TYPE_WORDS:
        expected = f"should be {TYPE_WORDS[kind]}"
    else:
        message = detail["msg"]
        prefix = "Input should be "
        expected = "should be " + message[len(prefix):] if message.startswith(prefix) else message
        expected = expected[:1].lower() + expected[1:]
    return f"{expected}, got {show_value(detail.get('input'))}"


def show_value(value: Any) -> str:
    """A short rendering of a YAML value for a message."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"'{shown}'"
    return str(value).lower() if isinstance(value, bool) else str(value)


def did_you_mean(word: str, candidates: list[str]) -> str:
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def allowed_fields_at(root_model: type[BaseModel], path: Path_) -> list[str]:
    """The keys the model at `path` (list indexes skipped) accepts, by their YAML names."""
    model: type[BaseModel] | None = root_model
    for part in path:
        if isinstance(part, int) or model is None:
            continue
        model = _field_model(model, str(part))
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


def _field_model(model: type[BaseModel], key: str) -> type[BaseModel] | None:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return _inner_model(field.annotation)
    return None


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _inner_model(argument)
        if found is not None:
            return found
    return None
