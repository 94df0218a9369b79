"""Stub artifacts for `--model mock`: content that passes the step's contracts, generated without a model.

- a JSON artifact (or one under a json_schema contract): a small instance of the schema (every declared
  property, else the required ones only; first enum/const, minItems items, formats and patterns honoured
  where a stock value fits), checked against the schema; `{}` when there is no schema;
- a Markdown artifact under markdown_sections contracts: a title, then one section per required section,
  mentioning what it must mention and shaped for its named check (timeline, action_items, five_whys,
  hypotheses);
- anything else: a short non-empty text naming the step.

`MOCK_VERDICT` is the hook for contracts that call a model (agent_review, llm_judge): under a mock run
their `ContractCheck.mock` is True, and they pass with this verdict instead of calling a model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from wave_sandbox.contracts import validation_errors
from wave_sandbox.contracts.pattern_sample import sample_matching
from wave_sandbox.contracts.model import JSON_SCHEMA, MARKDOWN_SECTIONS, ContractCheck, SectionRequirement

__all__ = ["MOCK_VERDICT", "mock_artifact_text", "minimal_instance"]

MOCK_VERDICT = "passed as mock: --model mock calls no model, so this model-judged contract was not evaluated"
MAX_DEPTH = 12
MAX_COUNT = 200
"""The most items, properties or characters a schema's min* may ask of a stub (the schema is the repository's)."""
STOCK_STRINGS = ("mock", "MOCK-1", "mock-1", "1", "a", "A1", "2026-01-01", "v1.0.0", "1.0.0", "abc123", "mock_1",
                 "https://example.com/mock", "mock@example.com", "2026-01-01T00:00:00Z", "#1", "main", "HIGH", "high")
FORMAT_STRINGS = {
    "date-time": "2026-01-01T00:00:00Z", "date": "2026-01-01", "time": "00:00:00Z", "email": "mock@example.com",
    "uri": "https://example.com/mock", "url": "https://example.com/mock", "uri-reference": "mock",
    "uuid": "00000000-0000-4000-8000-000000000000", "hostname": "example.com", "ipv4": "127.0.0.1",
    "duration": "PT1M",
}
CHECK_BODIES = {
    "timeline": "| time (UTC) | event |\n|---|---|\n| 2026-01-01 14:30 UTC | mock event one |\n"
                "| 2026-01-01 14:45 UTC | mock event two |",
    "action_items": "| action | owner | due |\n|---|---|---|\n| mock action item | @mock-owner | 2026-02-01 |",
    "five_whys": "\n".join(f"{n}. Why did mock step {n} happen? Because of mock cause {n}." for n in range(1, 6)),
    "hypotheses": "### H1: mock hypothesis (likelihood: HIGH)\n- Evidence for: mock evidence\n"
                  "- Evidence against: none found\n- Test: check the mock log",
}


def mock_artifact_text(step_id: str, path: str, declared_type: str | None, contracts: Sequence[ContractCheck]) -> str:
    """The stub content of one artifact, meant to pass every contract on it."""
    mine = [contract for contract in contracts if contract.source == path]
    schema = next((c.schema for c in mine if c.type == JSON_SCHEMA and c.schema is not None), None)
    if schema is not None:
        return json.dumps(minimal_instance(schema), indent=2) + "\n"
    sections = [section for c in mine if c.type == MARKDOWN_SECTIONS for section in c.sections]
    if sections or declared_type == "markdown" or path.endswith(".md"):
        return _markdown(step_id, sections)
    if declared_type == "json" or path.endswith(".json"):
        return "{}\n"
    return f"mock artifact of step {step_id} (--model mock: no real model was called)\n"


def _markdown(step_id: str, sections: list[SectionRequirement]) -> str:
    parts = [f"# Mock output of step {step_id}", "Written by --model mock: no real model was called."]
    for section in sections:
        parts.append(f"## {section.keywords[0].capitalize()}")
        mentioned = ", ".join(alternatives[0] for alternatives in section.mentions)
        parts.append(f"Mock section text mentioning {mentioned}." if mentioned else "Mock section text.")
        if section.check in CHECK_BODIES:
            parts.append(CHECK_BODIES[section.check])
    if not sections:
        parts += ["## Summary", "Mock summary."]
    return "\n\n".join(parts) + "\n"


def minimal_instance(schema: Any) -> Any:
    """A small value `schema` accepts (a best effort: checked, and the first candidate that passes wins).

    Every declared property is tried first, optional ones too: a later step's `{{ step.output.field }}`
    (an iterate's list, a branch's value) then finds its field in a dry run; arrays stay at minItems."""
    candidates = [_instance(schema, schema, 0, full=True), _instance(schema, schema, 0, full=False)]
    for candidate in candidates:
        if not validation_errors(candidate, schema):
            return candidate
    return candidates[0]


def _instance(schema: Any, root: Any, depth: int, full: bool) -> Any:
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return None if schema is False else {}
    schema = _resolved(schema, root)
    for key in ("const",):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    if schema.get("examples"):
        return schema["examples"][0]
    if schema.get("allOf"):
        return _instance(_merged(schema, root), root, depth + 1, full)
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            return _instance({**{k: v for k, v in schema.items() if k != key}, **_resolved(schema[key][0], root)},
                             root, depth + 1, full)
    return _typed(schema, _type_of(schema), root, depth, full)


def _type_of(schema: dict) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind:
        return kind
    if "properties" in schema or "required" in schema:
        return "object"
    return "array" if "items" in schema else "string"


def _typed(schema: dict, kind: str, root: Any, depth: int, full: bool) -> Any:
    if kind == "object":
        properties = schema.get("properties") or {}
        wanted = list(properties) if full else list(schema.get("required") or [])
        least = min(int(schema.get("minProperties") or 0), MAX_COUNT)
        wanted += [name for name in properties if name not in wanted][: max(least - len(wanted), 0)]
        value = {name: _instance(properties.get(name, {}), root, depth + 1, full) for name in wanted}
        extra = schema.get("additionalProperties") if isinstance(schema.get("additionalProperties"), dict) else {}
        for number in range(least - len(value)):
            value[f"mock_{number + 1}"] = _instance(extra, root, depth + 1, full)
        return value
    if kind == "array":
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        prefix = [_instance(item, root, depth + 1, full) for item in schema.get("prefixItems") or []]
        count = max(min(int(schema.get("minItems") or 0), MAX_COUNT) - len(prefix), 0)
        return prefix + [_instance(items, root, depth + 1, full) for _ in range(count)]
    if kind in ("integer", "number"):
        return _number(schema, kind)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema)


def _number(schema: dict, kind: str) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
    value = low + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
    high = schema.get("maximum")
    if high is not None and value > high:
        value = high
    return int(value) if kind == "integer" else value


def _string(schema: dict) -> str:
    minimum, maximum = min(int(schema.get("minLength") or 0), 100 * MAX_COUNT), schema.get("maxLength")
    value = FORMAT_STRINGS.get(schema.get("format", ""), "mock")
    pattern = schema.get("pattern")
    if pattern:
        value = next((s for s in (value, *STOCK_STRINGS) if _matches(pattern, s)), None) or sample_matching(pattern) or value
    if len(value) < minimum:
        value = value + "m" * (minimum - len(value))
    return value[:maximum] if isinstance(maximum, int) and maximum > 0 else value


def _matches(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def _resolved(schema: Any, root: Any) -> dict:
    seen = 0
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and seen < MAX_DEPTH:
        target = _pointer(root, schema["$ref"])
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**target, **rest} if isinstance(target, dict) else rest
        seen += 1
    return schema if isinstance(schema, dict) else {}


def _pointer(root: Any, reference: str) -> Any:
    if not reference.startswith("#"):
        return {}
    node = root
    for part in filter(None, reference[1:].split("/")):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node


def _merged(schema: dict, root: Any) -> dict:
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        part = _resolved(part, root)
        merged.setdefault("properties", {}).update(part.get("properties") or {})
        merged["required"] = list(dict.fromkeys([*(merged.get("required") or []), *(part.get("required") or [])]))
        for key, value in part.items():
            if key not in ("properties", "required"):
                merged.setdefault(key, value)
    return merged
