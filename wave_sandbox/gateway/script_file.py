"""Loading a scripted-model file (``--model scripted:FILE``), strictly.

The format (DESIGN.md, "The scripted model")::

    steps:
      triage:                                  # step id
        - - {type: text, text: "Looking at recent deploys"}
          - {type: tool_use, name: bash, input: {command: "git log -5"}}
        - {delay_s: 2, content: [{type: text, text: "Triage complete"}]}

A turn is a list of content blocks, or a mapping ``{delay_s, content}``. The file is read as YAML
nodes rather than plain data so that every problem names its line and place, e.g.
``demo.yaml:7: steps.triage[1][0]: unknown key 'nmae' (expected type, name, input)``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml

from wave_sandbox.errors import ScriptError
from wave_sandbox.spec.yaml_budget import YamlBudgetError, check_node_budget

__all__ = ["ScriptedTurn", "Script", "load_script", "TOOL_NAME_PATTERN"]

TOOL_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
MAX_DELAY_S = 3600.0
_BLOCK_KEYS = {"text": ("type", "text"), "tool_use": ("type", "name", "input")}


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


def load_script(path: Path) -> Script:
    """Read and check a script file; raises ScriptError naming the file, line and place."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(f"cannot read the scripted model file {path}: {exc}. Check the path.") from exc
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            check_node_budget(root)
        return Script(path=path, steps=_ScriptReader(path, loader).read_steps(root))
    except yaml.YAMLError as exc:
        raise ScriptError(f"scripted model file {path} is not valid YAML: {_one_line(exc)}") from exc
    except YamlBudgetError as exc:
        raise ScriptError(f"scripted model file {path}:{exc.line}: {exc.message}") from exc
    except RecursionError as exc:  # PyYAML's pure-Python composer recurses per nesting level
        raise ScriptError(f"scripted model file {path} nests too deep; flatten it") from exc
    finally:
        loader.dispose()


def _one_line(exc: yaml.YAMLError) -> str:
    return " ".join(str(exc).split())


class _ScriptReader:
    """Walks the YAML nodes of one file, building turns and failing at the first problem."""

    def __init__(self, path: Path, loader: yaml.SafeLoader) -> None:
        self.path = path
        self.loader = loader

    def fail(self, node: yaml.Node | None, place: str, message: str) -> NoReturn:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        raise ScriptError(f"scripted model file {self.path}{line}: {place}: {message}. Fix the file.")

    def mapping(self, node: yaml.Node, place: str, allowed: tuple[str, ...]) -> dict[str, yaml.Node]:
        """The entries of a mapping node, refusing other shapes and keys outside ``allowed`` (empty: any key)."""
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, place, "expected a mapping")
        entries: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None or key in entries:
                self.fail(key_node, place, f"{'duplicate' if key else 'non-text'} key {key!r}")
            if allowed and key not in allowed:
                self.fail(key_node, place, f"unknown key {key!r} (expected {', '.join(allowed)})")
            entries[key] = value_node
        return entries

    def sequence(self, node: yaml.Node, place: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, place, "expected a list")
        return list(node.value)

    def required(self, entries: dict[str, yaml.Node], key: str, parent: yaml.Node, place: str) -> yaml.Node:
        if key not in entries:
            self.fail(parent, place, f"missing key {key!r}")
        return entries[key]

    def value(self, node: yaml.Node) -> Any:
        return self.loader.construct_object(node, deep=True)

    def read_steps(self, root: yaml.Node | None) -> dict[str, tuple[ScriptedTurn, ...]]:
        if root is None:
            self.fail(None, "top level", "the file is empty; it needs a 'steps:' mapping of step ids to turns")
        steps_node = self.required(self.mapping(root, "top level", ("steps",)), "steps", root, "top level")
        if isinstance(steps_node, yaml.ScalarNode) and self.value(steps_node) is None:
            return {}  # `steps:` with nothing under it: every step answers "Done"
        step_nodes = self.mapping(steps_node, "steps", ())
        return {step_id: self.read_turns(node, f"steps.{step_id}") for step_id, node in step_nodes.items()}

    def read_turns(self, node: yaml.Node, place: str) -> tuple[ScriptedTurn, ...]:
        return tuple(self.read_turn(turn, f"{place}[{index}]") for index, turn in enumerate(self.sequence(node, place)))

    def read_turn(self, node: yaml.Node, place: str) -> ScriptedTurn:
        if isinstance(node, yaml.SequenceNode):
            return ScriptedTurn(content=self.read_content(node, place))
        entries = self.mapping(node, place, ("delay_s", "content"))
        content = self.read_content(self.required(entries, "content", node, place), f"{place}.content")
        delay_node = entries.get("delay_s")
        delay = 0.0 if delay_node is None else self.read_delay(delay_node, f"{place}.delay_s")
        return ScriptedTurn(content=content, delay_s=delay)

    def read_delay(self, node: yaml.Node, place: str) -> float:
        delay = self.value(node)
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay <= MAX_DELAY_S:
            self.fail(node, place, f"expected a number of seconds from 0 to {MAX_DELAY_S:g}, got {delay!r}")
        return float(delay)

    def read_content(self, node: yaml.Node, place: str) -> tuple[dict[str, Any], ...]:
        blocks = self.sequence(node, place)
        if not blocks:
            self.fail(node, place, "a turn needs at least one content block")
        return tuple(self.read_block(block, f"{place}[{index}]") for index, block in enumerate(blocks))

    def read_block(self, node: yaml.Node, place: str) -> dict[str, Any]:
        block_type = self.value(self.required(self.mapping(node, place, ()), "type", node, place))
        if block_type not in _BLOCK_KEYS:
            self.fail(node, place, f"unknown block type {block_type!r} (expected text or tool_use)")
        entries = self.mapping(node, place, _BLOCK_KEYS[block_type])
        for key in _BLOCK_KEYS[block_type]:
            self.required(entries, key, node, place)
        if block_type == "text":
            return {"type": "text", "text": self.read_text(entries["text"], f"{place}.text")}
        return self.read_tool_use(entries, place)

    def read_text(self, node: yaml.Node, place: str) -> str:
        text = self.value(node)
        # The agent sends the turn back in its next request, where the API refuses blank text.
        if not isinstance(text, str) or not text.strip():
            self.fail(node, place, "expected non-blank text")
        return text

    def read_tool_use(self, entries: dict[str, yaml.Node], place: str) -> dict[str, Any]:
        name, tool_input = self.value(entries["name"]), self.value(entries["input"])
        if not isinstance(name, str) or not TOOL_NAME_PATTERN.match(name):
            self.fail(entries["name"], f"{place}.name", "expected a tool name of letters, digits, '_' or '-'")
        if not isinstance(tool_input, dict) or not _is_plain_json(tool_input):
            self.fail(entries["input"], f"{place}.input", "expected a mapping of plain JSON values")
        return {"type": "tool_use", "name": name, "input": tool_input}


def _is_plain_json(value: Any) -> bool:
    # YAML can produce dates and sets, which JSON cannot carry to the agent.
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True
