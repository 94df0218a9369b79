"""Loading a scripted-model file (``--model scripted:FILE``), strictly.

The format (DESIGN.md, "The scripted model")::

    steps:
      triage:                                  # step id
        - - {type: text, text: "Looking at recent deploys"}
          - {type: tool_use, name: bash, input: {command: "git log -5"}}
        - {delay_s: 2, content: [{type: text, text: "Triage complete"}]}
    context_window: 8000                       # optional: longer prompts get "prompt is too long"

A turn is a list of content blocks, or a mapping ``{delay_s, content}``. The file is read by the
spec's YAML 1.2 loader (its alias and nesting budget, the line of every key, duplicate keys
reported), then validated by the pydantic models of ``script_model``; the first problem is one
line naming the file, the line and the place, e.g.
``demo.yaml:7: steps.triage[1][0]: unknown key 'nmae' (expected type, name, input). Fix the file.``
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError

from wave_sandbox.errors import ScriptError
from wave_sandbox.gateway.script_model import TOOL_NAME_PATTERN, ScriptFile, describe_error, turn_content
from wave_sandbox.spec.schema_errors import follow_loc
from wave_sandbox.spec.yaml_loader import Path_, YamlDocument, YamlSyntaxError, parse_yaml

__all__ = ["ScriptedTurn", "Script", "load_script", "TOOL_NAME_PATTERN"]


@dataclass(frozen=True)
class ScriptedTurn:
    """One assistant answer: content blocks without ids (the model generates them), after a delay."""

    content: tuple[dict[str, Any], ...]
    delay_s: float = 0.0


@dataclass(frozen=True)
class Script:
    """A whole scripted-model file: the turns of each step, in order."""

    path: Path
    steps: dict[str, tuple[ScriptedTurn, ...]]
    context_window: int | None = None
    """Most prompt tokens the scripted model takes (None: no limit)."""


def load_script(path: Path) -> Script:
    """Read and check a script file; raises ScriptError naming the file, line and place."""
    document = _read_document(path)
    if document.data is None:
        _fail(path, document, (), "the file is empty; it needs a 'steps:' mapping of step ids to turns")
    if document.duplicate_keys:
        key_path, _line = document.duplicate_keys[0]
        _fail(path, document, key_path, f"duplicate key {key_path[-1]!r}", key_path[:-1])
    try:
        parsed = ScriptFile.model_validate(document.data)
    except ValidationError as exc:
        detail = _first_problem(exc)
        where, absent = follow_loc(detail["loc"], document.data)
        place = where[:-1] if detail["type"] == "extra_forbidden" else where  # an unknown key: its mapping
        _fail(path, document, where, describe_error(detail, absent), place)
    steps = {step_id: tuple(_turn(turn) for turn in turns) for step_id, turns in (parsed.steps or {}).items()}
    return Script(path=path, steps=steps, context_window=parsed.context_window)


def _read_document(path: Path) -> YamlDocument:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(f"cannot read the scripted model file {path}: {exc}. Check the path.") from exc
    try:
        return parse_yaml(text)
    except YamlSyntaxError as exc:
        raise ScriptError(f"scripted model file {path}:{exc.line}: is not valid YAML: {exc.message}") from exc
    except RecursionError as exc:  # the pure-Python composer recurses per nesting level
        raise ScriptError(f"scripted model file {path} nests too deep; flatten it") from exc


def _first_problem(exc: ValidationError) -> Any:
    """An unknown key first (a misspelt key also reads as a missing one), else the first error."""
    return min(exc.errors(), key=lambda detail: detail["type"] != "extra_forbidden")


def _turn(turn: Any) -> ScriptedTurn:
    content, delay_s = turn_content(turn)
    return ScriptedTurn(content=tuple(block.model_dump() for block in content), delay_s=delay_s)


def _fail(path: Path, document: YamlDocument, where: Path_, message: str, place: Path_ | None = None) -> NoReturn:
    """Raise the one-line error: the line of ``where``, the place ``place`` (default: ``where``)."""
    line = document.line_of(where) if where else 1
    shown = _place(where if place is None else place)
    raise ScriptError(f"scripted model file {path}:{line}: {shown}: {message}. Fix the file.")


def _place(where: Path_) -> str:
    """``steps.triage[1][0].name`` for ``("steps", "triage", 1, 0, "name")``; ``top level`` for ``()``."""
    if not where:
        return "top level"
    place = str(where[0])
    for part in where[1:]:
        place += f"[{part}]" if isinstance(part, int) else f".{part}"
    return place
