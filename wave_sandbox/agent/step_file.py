"""Read and check /wave/step.json, the step description the runner writes for the agent.

The runner and the agent ship together (the image tag hashes the agent code), so the file is checked
strictly: an unknown key or a wrong type is a bug on the host side and must not pass silently.

The host writes it from `wave_sandbox.engine.step_description.StepDescription` (pydantic, which this
package cannot import). Both declare the same fields, defaults and types, in the same order;
`tests/unit/engine/test_step_description.py` fails when one side changes without the other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from wave_sandbox.agent.tools import TOOL_NAMES

DEFAULT_WORKDIR = "/workspace"
DEFAULT_TOOL_OUTPUT_LIMIT = 30000
DEFAULT_BASH_TIMEOUT_S = 120
DEFAULT_CONTEXT_WINDOW = 200_000


class StepFileError(Exception):
    """step.json is missing, unreadable or malformed; the text is one line naming the problem."""


@dataclass(frozen=True)
class StepDescription:
    """Everything the agent needs to run one step: prompts, model, allowed tools and limits."""

    step_id: str
    persona: str
    model: str
    system: str
    prompt: str
    tools: tuple[str, ...]
    max_tokens: int
    max_turns: int
    timeout_s: float
    workdir: str = DEFAULT_WORKDIR
    tool_output_limit: int = DEFAULT_TOOL_OUTPUT_LIMIT
    bash_timeout_s: float = DEFAULT_BASH_TIMEOUT_S
    context_window: int = DEFAULT_CONTEXT_WINDOW
    temperature: float | None = None


# key -> (accepted types, required, must be positive)
STEP_FILE_FIELDS: dict[str, tuple[tuple[type, ...], bool, bool]] = {
    "step_id": ((str,), True, False),
    "persona": ((str,), True, False),
    "model": ((str,), True, False),
    "system": ((str,), True, False),
    "prompt": ((str,), True, False),
    "tools": ((list,), True, False),
    "max_tokens": ((int,), True, True),
    "max_turns": ((int,), True, True),
    "timeout_s": ((int, float), True, True),
    "workdir": ((str,), False, False),
    "tool_output_limit": ((int,), False, True),
    "bash_timeout_s": ((int, float), False, True),
    "context_window": ((int,), False, True),
    "temperature": ((int, float, type(None)), False, False),
}
NON_EMPTY_TEXT_FIELDS = ("step_id", "persona", "model", "prompt", "workdir")


def load_step_file(path: Path) -> StepDescription:
    """Parse and check the step file; raises StepFileError with one line saying what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StepFileError(f"cannot read step file {path}: {describe_read_error(exc)}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StepFileError(f"step file {path} is not valid JSON: {exc}") from exc
    problem = find_step_data_problem(data)
    if problem:
        raise StepFileError(f"step file {path}: {problem}")
    return StepDescription(**{**data, "tools": tuple(data["tools"])})


def describe_read_error(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def find_step_data_problem(data: object) -> str | None:
    """The first problem of the decoded step file, or None when it is usable."""
    if not isinstance(data, dict):
        return "expected a JSON object at the top level"
    unknown = sorted(set(data) - set(STEP_FILE_FIELDS))
    if unknown:
        return f"unknown key(s) {', '.join(unknown)}; expected only {', '.join(STEP_FILE_FIELDS)}"
    for key, (types, required, positive) in STEP_FILE_FIELDS.items():
        problem = find_field_problem(data, key, types, required, positive)
        if problem:
            return problem
    return find_tools_problem(data["tools"])


def find_field_problem(data: dict, key: str, types: tuple[type, ...], required: bool, positive: bool) -> str | None:
    if key not in data:
        return f"missing required key '{key}'" if required else None
    value = data[key]
    # bool is an int in Python, but `"max_turns": true` is a mistake, not a number.
    if isinstance(value, bool) or not isinstance(value, types):
        wanted = " or ".join(type_label(kind) for kind in types)
        return f"'{key}' must be {wanted}, got {json.dumps(value)[:60]}"
    if positive and value <= 0:
        return f"'{key}' must be greater than 0, got {value}"
    if key in NON_EMPTY_TEXT_FIELDS and not value.strip():
        return f"'{key}' must not be empty"
    return None


def type_label(kind: type) -> str:
    return {str: "a string", int: "an integer", float: "a number", list: "a list", type(None): "null"}[kind]


def find_tools_problem(tools: list) -> str | None:
    for name in tools:
        if not isinstance(name, str) or name not in TOOL_NAMES:
            return f"unknown tool {json.dumps(name)} in 'tools'; known tools: {', '.join(TOOL_NAMES)}"
    if len(set(tools)) != len(tools):
        return "'tools' lists a tool more than once"
    return None
