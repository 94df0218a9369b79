"""Check a JSON artifact against its contract's JSON Schema, with errors a model can act on.

The checking is `jsonschema`'s (Draft 2020-12, `iter_errors`); only schemas within the keyword
allowlist of `schema_allowlist` are used. A contract's errors go back to the agent, so each one is
reworded here: it names the place as a JSON path (`$.recent_changes[0].commit`), says what is wrong
in words and repeats the schema's `description` of that place. Errors come in document order; when
a value has the wrong type, the other keywords of that schema are not reported (they would only
repeat the same mistake).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from wave_sandbox.contracts.schema_allowlist import schema_problems

__all__ = ["schema_problems", "validation_errors"]

DATE_TIME_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
SHOWN_VALUE_CHARACTERS = 60
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# The order in which one place's errors are listed (the keywords of the value itself, then combinators).
_KEYWORD_ORDER = (
    "type", "enum", "const", "minLength", "maxLength", "pattern", "format", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems", "uniqueItems", "minProperties",
    "maxProperties", "anyOf", "oneOf", "not",
)  # fmt: skip
_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("date-time")
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str) or not DATE_TIME_PATTERN.match(value):
        return not isinstance(value, str)
    try:
        datetime.fromisoformat(value.replace("z", "Z").replace("t", "T").replace(" ", "T"))
    except ValueError:
        return False
    return True


@_FORMATS.checks("date")
def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        return len(value) == 10 and date.fromisoformat(value) is not None
    except ValueError:
        return False


def validation_errors(instance: Any, schema: Any) -> list[str]:
    """Every way `instance` breaks `schema`, each as `$.json.path: what is wrong (the place's description)`."""
    problems = _cached_schema_problems(json.dumps(schema, sort_keys=True))
    if problems:  # checked when the pipeline loads; never hand the checker a schema outside the allowlist
        return [f"the contract's schema cannot be used: {problem}" for problem in problems]
    checker = Draft202012Validator(schema, format_checker=_FORMATS)
    kept = _without_repeats(list(checker.iter_errors(instance)))
    key_indexes: dict[int, dict[str, int]] = {}
    ordered = sorted(kept, key=lambda error: _position(instance, error, key_indexes))
    return [message for error in ordered for message in _messages(checker, error)]


@functools.lru_cache(maxsize=64)
def _cached_schema_problems(schema_text: str) -> tuple[str, ...]:
    """schema_problems of a schema by its JSON text: the meta-schema check costs ~6 ms, a contract is checked often."""
    return tuple(schema_problems(json.loads(schema_text)))


def _without_repeats(errors: list[ValidationError]) -> list[ValidationError]:
    """Drop what a wrong type makes moot: the other errors of that schema at that place and below."""
    wrong_types: dict[tuple, list[tuple]] = {}
    for error in errors:
        if error.validator == "type":
            wrong_types.setdefault(tuple(error.absolute_path), []).append(tuple(error.absolute_schema_path)[:-1])

    def moot(error: ValidationError) -> bool:
        path, schema_path = tuple(error.absolute_path), tuple(error.absolute_schema_path)
        return error.validator != "type" and any(
            schema_path[: len(at)] == at for length in range(len(path) + 1) for at in wrong_types.get(path[:length], ())
        )

    return [error for error in errors if not moot(error)] if wrong_types else errors


def _position(instance: Any, error: ValidationError, key_indexes: dict[int, dict[str, int]]) -> tuple[tuple[int, ...], int]:
    """Where the error's place comes in the document (members after their parent), then its keyword.

    ``key_indexes`` caches the order of each object's keys (by the object's id) across one document's errors.
    """
    indexes: list[int] = []
    node = instance
    for part in error.absolute_path:
        if isinstance(node, dict):
            order = key_indexes.setdefault(id(node), {key: index for index, key in enumerate(node)})
            indexes.append(order[part])
        else:
            indexes.append(int(part))
        node = node[part]
    if error.validator in ("required", "additionalProperties"):
        indexes.append(-1)  # a missing or unexpected member: before the members that are there
    keyword = str(error.validator)
    return tuple(indexes), _KEYWORD_ORDER.index(keyword) if keyword in _KEYWORD_ORDER else len(_KEYWORD_ORDER)


def _messages(checker: Draft202012Validator, error: ValidationError) -> Iterator[str]:
    path, value, schema = _json_path(error.absolute_path), error.instance, error.schema
    if error.validator == "required":
        yield from _missing(error, path)
    elif error.validator == "additionalProperties":
        declared = schema.get("properties") or {}
        for name in (name for name in value if name not in declared):
            yield f"{_member_path(path, name)}: property is not allowed here"
    elif schema is False:
        yield f"{path}: no value is allowed here"
    else:
        yield f"{path}: {_wording(checker, error)}{_hint(schema)}"


def _missing(error: ValidationError, path: str) -> Iterator[str]:
    properties = error.schema.get("properties") or {}
    missing = [wanted for wanted in error.validator_value if wanted not in error.instance]
    named = error.message.removesuffix(" is a required property")  # jsonschema reports one missing name per error
    for wanted in [wanted for wanted in missing if repr(wanted) == named] or missing[:1]:
        yield f"{_member_path(path, wanted)}: required property is missing{_hint(properties.get(wanted))}"


def _wording(checker: Draft202012Validator, error: ValidationError) -> str:
    keyword, bound, value = str(error.validator), error.validator_value, error.instance
    shown = _show(value)
    words = {
        "type": lambda: f"expected {' or '.join(bound) if isinstance(bound, list) else bound}, got {_type_name(value)}",
        "enum": lambda: f"{shown} is not one of {', '.join(json.dumps(option) for option in bound)}",
        "const": lambda: f"should be {json.dumps(bound)}, got {shown}",
        "minLength": lambda: f"{shown} is shorter than {bound} character(s)",
        "maxLength": lambda: f"{shown} is longer than {bound} characters",
        "pattern": lambda: f"{shown} does not match the pattern {bound}",
        "format": lambda: f"{shown} is not an ISO-8601 {_FORMAT_EXAMPLES.get(bound, bound)}",
        "minimum": lambda: f"{shown} is less than {bound}",
        "maximum": lambda: f"{shown} is more than {bound}",
        "exclusiveMinimum": lambda: f"{shown} is not more than {bound}",
        "exclusiveMaximum": lambda: f"{shown} is not less than {bound}",
        "minItems": lambda: f"has {len(value)} item(s), needs at least {bound}",
        "maxItems": lambda: f"has {len(value)} items, allows at most {bound}",
        "uniqueItems": lambda: "holds the same item twice",
        "minProperties": lambda: f"has {len(value)} propert(ies), needs at least {bound}",
        "maxProperties": lambda: f"has {len(value)} properties, allows at most {bound}",
        "anyOf": lambda: f"{shown} matches none of the {len(bound)} allowed shapes (anyOf)",
        "oneOf": lambda: f"{shown} matches {_matches(checker, value, bound)} of the shapes in oneOf, should match exactly one",
        "not": lambda: f"{shown} has a shape that is not allowed here (not)",
    }  # fmt: skip
    return words[keyword]() if keyword in words else error.message


_FORMAT_EXAMPLES = {"date-time": "date-time such as 2026-02-04T14:30:05Z", "date": "date such as 2026-02-04"}


def _matches(checker: Draft202012Validator, value: Any, shapes: list[Any]) -> int:
    return sum(checker.evolve(schema=shape).is_valid(value) for shape in shapes)


def _hint(schema: Any) -> str:
    described = schema.get("description") if isinstance(schema, dict) else None
    return f" ({described})" if isinstance(described, str) else ""


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "integer" if float(value).is_integer() else "number"
    names = {str: "string", list: "array", dict: "object"}
    return next((name for kind, name in names.items() if isinstance(value, kind)), type(value).__name__)


def _json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path = f"{path}[{part}]" if isinstance(part, int) else _member_path(path, part)
    return path


def _member_path(path: str, name: str) -> str:
    return f"{path}.{name}" if IDENTIFIER.match(name) else f"{path}[{json.dumps(name)}]"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > SHOWN_VALUE_CHARACTERS:
        text = text[: SHOWN_VALUE_CHARACTERS - 1] + "…"
    return text
