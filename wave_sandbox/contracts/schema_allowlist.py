"""Which JSON Schemas a contract may use: an allowlist of keywords, checked before a schema is used.

The checker (`json_schema`, on the `jsonschema` package) would honour every keyword of the 2020-12
dialect; a contract may only use those wave-sandbox words errors for and tests, so anything else is
refused with its place when the pipeline loads (and again before a document is checked), never
silently ignored or half-honoured. Supported: `type`, `enum`, `const`, `properties`, `required`,
`additionalProperties`, `minProperties`, `maxProperties`, `items`, `minItems`, `maxItems`,
`uniqueItems`, `minLength`, `maxLength`, `pattern`, `format` (`date-time` and `date` checked, others
are annotations, as the standard allows), `minimum`, `maximum`, `exclusiveMinimum`,
`exclusiveMaximum`, `allOf`, `anyOf`, `oneOf`, `not` and local `$ref` (`#/$defs/...`). A `$ref`
that leads back to its own place without checking anything (a loop the checker would recurse
through forever) is refused too, and the schema must be valid against the 2020-12 meta-schema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

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
_META_VALIDATOR = Draft202012Validator(Draft202012Validator.META_SCHEMA)
TYPE_NAMES = ("object", "array", "string", "number", "integer", "boolean", "null")
SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")


# ----- checking a schema when the pipeline loads ----------------------------------------------------
def schema_problems(schema: Any) -> list[str]:
    """Why `schema` cannot be used as a contract (unsupported keyword, bad value, dangling $ref), or []."""
    problems = list(_schema_problems_at(schema, "#", schema))
    return problems or _meta_schema_problems(schema)


def _meta_schema_problems(schema: Any) -> list[str]:
    """What the 2020-12 meta-schema says of a schema that passed the allowlist (`"minLength": "3"`)."""
    error = best_match(_META_VALIDATOR.iter_errors(schema))
    if error is None:
        return []
    where = "#" + "".join(f"/{part}" for part in error.absolute_path)
    return [f"{where}: {error.message} (the JSON Schema 2020-12 rules)"]


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
