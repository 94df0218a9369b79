"""A small JSON Schema validator for the keywords contracts need, with errors a model can act on.

The `jsonschema` package is not a dependency of wave-sandbox, and a contract's errors go back to the
agent, so they should name the place (`$.recent_changes[0].commit`), say what is wrong in words and
repeat the schema's `description` of that place. Supported: `type`, `enum`, `const`, `properties`,
`required`, `additionalProperties`, `minProperties`, `maxProperties`, `items`, `minItems`, `maxItems`,
`uniqueItems`, `minLength`, `maxLength`, `pattern`, `format` (`date-time` and `date` checked, others
are annotations, as the standard allows), `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`,
`allOf`, `anyOf`, `oneOf`, `not` and local `$ref` (`#/$defs/...`). Anything else in a schema is
reported by `schema_problems` when the pipeline is loaded, so no keyword is ever silently ignored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

ANNOTATION_KEYWORDS = frozenset({
    "$schema", "$id", "$comment", "$defs", "definitions", "title", "description", "examples", "default",
    "deprecated", "readOnly", "writeOnly",
})
VALIDATION_KEYWORDS = frozenset({
    "type", "enum", "const", "properties", "required", "additionalProperties", "minProperties",
    "maxProperties", "items", "minItems", "maxItems", "uniqueItems", "minLength", "maxLength", "pattern",
    "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "allOf", "anyOf", "oneOf",
    "not", "$ref",
})
TYPE_NAMES = ("object", "array", "string", "number", "integer", "boolean", "null")
SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
DATE_TIME_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
SHOWN_VALUE_CHARACTERS = 60
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# ----- checking a schema when the pipeline loads ----------------------------------------------------
def schema_problems(schema: Any) -> list[str]:
    """Why `schema` cannot be used as a contract (unsupported keyword, bad value, dangling $ref), or []."""
    return list(_schema_problems_at(schema, "#", schema))


def _schema_problems_at(schema: Any, where: str, root: Any) -> Iterator[str]:
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        yield f"{where}: a schema should be an object or a boolean"
        return
    for keyword in schema:
        if keyword not in ANNOTATION_KEYWORDS and keyword not in VALIDATION_KEYWORDS:
            yield f"{where}: keyword '{keyword}' is not supported by wave-sandbox's schema checker"
    yield from _keyword_value_problems(schema, where, root)
    for name, child in _subschemas(schema):
        yield from _schema_problems_at(child, f"{where}/{name}", root)


def _keyword_value_problems(schema: dict, where: str, root: Any) -> Iterator[str]:
    types = schema.get("type")
    for name in types if isinstance(types, list) else [types] if types is not None else []:
        if name not in TYPE_NAMES:
            yield f"{where}/type: unknown type {json.dumps(name)} (use {', '.join(TYPE_NAMES)})"
    if "pattern" in schema:
        try:
            re.compile(schema["pattern"])
        except (re.error, TypeError) as error:
            yield f"{where}/pattern: not a valid regular expression ({error})"
    if "required" in schema and not _is_list_of_strings(schema["required"]):
        yield f"{where}/required: should be a list of property names"
    if "enum" in schema and not isinstance(schema["enum"], list):
        yield f"{where}/enum: should be a list"
    if "$ref" in schema and _resolve_reference(root, schema["$ref"]) is None:
        yield f"{where}/$ref: {json.dumps(schema['$ref'])} does not point into this schema (only '#/...' references)"
    elif "$ref" in schema and _loops_back(schema, root):
        yield f"{where}/$ref: {json.dumps(schema['$ref'])} leads back here without checking anything (a loop)"


def _loops_back(schema: dict, root: Any) -> bool:
    """Whether `$ref`, `allOf`, `anyOf`, `oneOf` and `not` (links that check the same value, so the
    checker would recurse forever) lead from `schema` back to itself."""
    seen: set[int] = set()
    pending = _same_value_links(schema, root)
    while pending:
        current = pending.pop()
        if current is schema:
            return True
        if id(current) not in seen:
            seen.add(id(current))
            pending.extend(_same_value_links(current, root))
    return False


def _same_value_links(schema: Any, root: Any) -> list[Any]:
    if not isinstance(schema, dict):
        return []
    links = [child for name in SUBSCHEMA_LISTS if isinstance(schema.get(name), list) for child in schema[name]]
    if isinstance(schema.get("not"), dict):
        links.append(schema["not"])
    if "$ref" in schema:
        links.append(_resolve_reference(root, schema["$ref"]))
    return links


def _subschemas(schema: dict) -> Iterator[tuple[str, Any]]:
    for container in ("properties", "$defs", "definitions"):
        if isinstance(schema.get(container), dict):
            for name, child in schema[container].items():
                yield f"{container}/{name}", child
    for single in ("items", "additionalProperties", "not"):
        if single in schema and not isinstance(schema[single], bool):
            yield single, schema[single]
    for combinator in SUBSCHEMA_LISTS:
        for index, child in enumerate(schema.get(combinator) or []):
            yield f"{combinator}/{index}", child


def _is_list_of_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _resolve_reference(root: Any, reference: Any) -> Any:
    """The subschema a local `$ref` ('#/$defs/x') points at, or None."""
    if not isinstance(reference, str) or not reference.startswith("#"):
        return None
    target = root
    for part in [p for p in reference[1:].split("/") if p]:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, dict) or part not in target:
            return None
        target = target[part]
    return target


# ----- checking a document against a schema ---------------------------------------------------------
def validation_errors(instance: Any, schema: Any) -> list[str]:
    """Every way `instance` breaks `schema`, each as `$.json.path: what is wrong (the place's description)`."""
    return list(_errors(instance, schema, "$", schema))


def _errors(value: Any, schema: Any, path: str, root: Any) -> Iterator[str]:
    if schema is True:
        return
    if schema is False:
        yield f"{path}: no value is allowed here"
        return
    if not isinstance(schema, dict):
        return  # schema_problems reports it when the pipeline loads
    if "$ref" in schema:
        yield from _errors(value, _resolve_reference(root, schema["$ref"]), path, root)
    hint = f" ({schema['description']})" if isinstance(schema.get("description"), str) else ""
    if "type" in schema and not _has_type(value, schema["type"]):
        expected = " or ".join(schema["type"]) if isinstance(schema["type"], list) else schema["type"]
        yield f"{path}: expected {expected}, got {_type_name(value)}{hint}"
        return  # the other keywords would only repeat the same mistake
    for message in _own_errors(value, schema):
        yield f"{path}: {message}{hint}"
    yield from _combinator_errors(value, schema, path, root, hint)
    if isinstance(value, dict):
        yield from _object_errors(value, schema, path, root)
    if isinstance(value, list):
        yield from _array_item_errors(value, schema, path, root)


def _own_errors(value: Any, schema: dict) -> Iterator[str]:
    """The keywords that judge the value itself (not its members)."""
    if "enum" in schema and not any(_equal(value, option) for option in schema["enum"]):
        yield f"{_show(value)} is not one of {', '.join(json.dumps(option) for option in schema['enum'])}"
    if "const" in schema and not _equal(value, schema["const"]):
        yield f"should be {json.dumps(schema['const'])}, got {_show(value)}"
    if isinstance(value, str):
        yield from _string_errors(value, schema)
    if _is_number(value):
        yield from _number_errors(value, schema)
    if isinstance(value, list):
        yield from _array_size_errors(value, schema)
    if isinstance(value, dict):
        yield from _object_size_errors(value, schema)


def _string_errors(value: str, schema: dict) -> Iterator[str]:
    if "minLength" in schema and len(value) < schema["minLength"]:
        yield f"{_show(value)} is shorter than {schema['minLength']} character(s)"
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        yield f"{_show(value)} is longer than {schema['maxLength']} characters"
    if "pattern" in schema and not re.search(schema["pattern"], value):
        yield f"{_show(value)} does not match the pattern {schema['pattern']}"
    if schema.get("format") == "date-time" and not _is_date_time(value):
        yield f"{_show(value)} is not an ISO-8601 date-time such as 2026-02-04T14:30:05Z"
    if schema.get("format") == "date" and not _is_date(value):
        yield f"{_show(value)} is not an ISO-8601 date such as 2026-02-04"


def _number_errors(value: float, schema: dict) -> Iterator[str]:
    bounds = (("minimum", lambda b: value < b, "less than"), ("maximum", lambda b: value > b, "more than"),
              ("exclusiveMinimum", lambda b: value <= b, "not more than"),
              ("exclusiveMaximum", lambda b: value >= b, "not less than"))
    for keyword, breaks, words in bounds:
        if keyword in schema and _is_number(schema[keyword]) and breaks(schema[keyword]):
            yield f"{_show(value)} is {words} {schema[keyword]}"


def _array_size_errors(value: list, schema: dict) -> Iterator[str]:
    if "minItems" in schema and len(value) < schema["minItems"]:
        yield f"has {len(value)} item(s), needs at least {schema['minItems']}"
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        yield f"has {len(value)} items, allows at most {schema['maxItems']}"
    if schema.get("uniqueItems") is True:
        seen = [json.dumps(item, sort_keys=True) for item in value]
        if len(set(seen)) != len(seen):
            yield "holds the same item twice"


def _object_size_errors(value: dict, schema: dict) -> Iterator[str]:
    if "minProperties" in schema and len(value) < schema["minProperties"]:
        yield f"has {len(value)} propert(ies), needs at least {schema['minProperties']}"
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        yield f"has {len(value)} properties, allows at most {schema['maxProperties']}"


def _combinator_errors(value: Any, schema: dict, path: str, root: Any, hint: str) -> Iterator[str]:
    if "allOf" in schema:
        for child in schema["allOf"]:
            yield from _errors(value, child, path, root)
    if "anyOf" in schema and not any(_matches(value, child, root) for child in schema["anyOf"]):
        yield f"{path}: {_show(value)} matches none of the {len(schema['anyOf'])} allowed shapes (anyOf){hint}"
    if "oneOf" in schema:
        matched = sum(_matches(value, child, root) for child in schema["oneOf"])
        if matched != 1:
            yield f"{path}: {_show(value)} matches {matched} of the shapes in oneOf, should match exactly one{hint}"
    if "not" in schema and _matches(value, schema["not"], root):
        yield f"{path}: {_show(value)} has a shape that is not allowed here (not){hint}"


def _object_errors(value: dict, schema: dict, path: str, root: Any) -> Iterator[str]:
    properties = schema.get("properties") or {}
    for name in schema.get("required") or []:
        if name not in value:
            described = properties.get(name) if isinstance(properties.get(name), dict) else {}
            hint = f" ({described['description']})" if isinstance(described.get("description"), str) else ""
            yield f"{_member_path(path, name)}: required property is missing{hint}"
    for name, member in value.items():
        if name in properties:
            yield from _errors(member, properties[name], _member_path(path, name), root)
        elif "additionalProperties" in schema:
            extra = schema["additionalProperties"]
            if extra is False:
                yield f"{_member_path(path, name)}: property is not allowed here"
            else:
                yield from _errors(member, extra, _member_path(path, name), root)


def _array_item_errors(value: list, schema: dict, path: str, root: Any) -> Iterator[str]:
    if "items" in schema:
        for index, item in enumerate(value):
            yield from _errors(item, schema["items"], f"{path}[{index}]", root)


def _matches(value: Any, schema: Any, root: Any) -> bool:
    return next(_errors(value, schema, "$", root), None) is None


# ----- small helpers ----------------------------------------------------------------------------------
def _has_type(value: Any, expected: str | list[str]) -> bool:
    names = expected if isinstance(expected, list) else [expected]
    return any(_is_type(value, name) for name in names)


def _is_type(value: Any, name: str) -> bool:
    checks = {
        "object": lambda: isinstance(value, dict),
        "array": lambda: isinstance(value, list),
        "string": lambda: isinstance(value, str),
        "number": lambda: _is_number(value),
        "integer": lambda: _is_number(value) and float(value).is_integer(),
        "boolean": lambda: isinstance(value, bool),
        "null": lambda: value is None,
    }
    return checks.get(name, lambda: False)()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _type_name(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _is_type(value, name):
            return name
    return type(value).__name__


def _equal(left: Any, right: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return left == right


def _is_date_time(text: str) -> bool:
    if not DATE_TIME_PATTERN.match(text):
        return False
    try:
        datetime.fromisoformat(text.replace("z", "Z").replace("t", "T").replace(" ", "T"))
    except ValueError:
        return False
    return True


def _is_date(text: str) -> bool:
    try:
        return len(text) == 10 and date.fromisoformat(text) is not None
    except ValueError:
        return False


def _member_path(path: str, name: str) -> str:
    return f"{path}.{name}" if IDENTIFIER.match(name) else f"{path}[{json.dumps(name)}]"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > SHOWN_VALUE_CHARACTERS:
        text = text[: SHOWN_VALUE_CHARACTERS - 1] + "…"
    return text
