"""Wave's step `outcomes`: deliverables (a PR URL, an issue, a file) read from a step's JSON artifact.

As Wave's OutcomeDef: `extract_from` names an artifact path of the step, `json_path` a dot path in it
(`.pr_url`, `.items[0].url`, `.items[*].url` for every item), `label` and `type` describe it. The value
was written by an agent: it is kept in run.json as untrusted text (capped, never followed or fetched)
and `show` prints it escaped like every other recorded value.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from wave_sandbox.contracts.json_depth import loads_bounded
from wave_sandbox.spec.models import Step

MAX_VALUE_CHARS = 500
MAX_VALUES = 20
PATH_PART = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+|\*)\]")


def extract_outcomes(step: Step, artifacts_folder: Path) -> list[dict[str, str]]:
    """One record per value found; an outcome whose artifact or path is missing is left out, as in Wave."""
    definitions = step.outcomes if isinstance(step.outcomes, list) else []
    found: list[dict[str, str]] = []
    for definition in definitions:
        if isinstance(definition, dict):
            found += _values_of(definition, step, artifacts_folder)
    return found[:MAX_VALUES]


def _values_of(definition: dict, step: Step, artifacts_folder: Path) -> list[dict[str, str]]:
    source = str(definition.get("extract_from") or "")
    artifact = next((a for a in step.output_artifacts if a.path == source), None)
    if artifact is None or not artifact.path:
        return []
    try:
        data = loads_bounded((artifacts_folder / Path(artifact.path).name).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return []
    values = json_path_values(data, str(definition.get("json_path") or ""))
    kind, label = str(definition.get("type") or ""), str(definition.get("label") or "")
    return [{"type": kind[:40], "label": label[:100], "value": _text(value)} for value in values]


def json_path_values(data: Any, path: str) -> list[Any]:
    """The values at a Wave dot path; [] when the path leads nowhere."""
    values = [data]
    for match in PATH_PART.finditer(path):
        key, index = match.group(1), match.group(2)
        values = [item for value in values for item in _step_into(value, key, index)]
    return [value for value in values if value is not None and not isinstance(value, (dict, list))]


def _step_into(value: Any, key: str | None, index: str | None) -> list[Any]:
    if key is not None:
        return [value[key]] if isinstance(value, dict) and key in value else []
    if not isinstance(value, list):
        return []
    if index == "*":
        return list(value)
    position = int(index)
    return [value[position]] if position < len(value) else []


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "..."
