"""Personas defined the Wave way: wave.yaml's `personas:` map and `.agents/personas/<name>.md`.

As Wave's claude adapter builds an agent: the prompt is `.agents/personas/base-protocol.md`, a
separator, then the persona's prompt (`system_prompt_file`, else `.agents/personas/<name>.md`, else
Wave's one-line stand-in). `model` (a tier or an id), `temperature` and `permissions` are carried:
`"*"` is every sandbox tool the operator allows, Wave's tool names map to ours, a bare name in `deny`
removes that tool, and a pattern rule (`Bash(git log*)`) grants or keeps its tool and is recorded as
advisory, because the container, not a command pattern, is the boundary. `hooks` are refused (Wave
runs them as host commands). `sandbox.allowed_domains` and `token_scopes` are recorded and never
given to a container.

Precedence: `.wave/personas/<name>.md`/`.yaml` (the repository's limits for wave-sandbox) over this
definition over a built-in of the same name, whose settings (limits, turns) fill what Wave has no word for.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from wave_sandbox.spec.model_tiers import TierMap, is_tier, resolve_model
from wave_sandbox.spec.problems import Problem, display_path
from wave_sandbox.spec.repo_paths import RepositoryPathError, read_repository_text
from wave_sandbox.spec.tool_names import AGENT_TOOLS, WAVE_TOOL_TO_AGENT_TOOL
from wave_sandbox.spec.wave_project import WaveProject

WAVE_PERSONAS_DIR = ".agents/personas"
BASE_PROTOCOL = f"{WAVE_PERSONAS_DIR}/base-protocol.md"
PROMPT_SEPARATOR = "\n\n---\n\n"
PERSONA_KEYS = {
    "adapter", "description", "system_prompt_file", "temperature", "model", "permissions", "hooks", "sandbox",
    "skills", "token_scopes",
}
ACCEPTED_ADAPTERS = ("", "claude")
TOOL_PATTERN = re.compile(r"^([A-Za-z]+)\((.*)\)$")


class WavePersonaDefinition:
    """One entry of wave.yaml's `personas:`, checked; problems land in `problems` at wave.yaml's lines."""

    def __init__(self, name: str, project: WaveProject, repo: Path, problems: list[Problem]):
        self.name, self.project, self.repo, self.problems = name, project, repo, problems
        raw = project.personas.get(name)
        self.raw: dict[str, Any] = raw if isinstance(raw, dict) else {}
        self.advisories: list[str] = []
        if not isinstance(raw, dict):
            self._problem((), "a persona should be a mapping (adapter, system_prompt_file, permissions, ...)")
        self._check_keys()

    def _problem(self, path: tuple[str | int, ...], message: str) -> None:
        where = ".".join(["personas", self.name, *map(str, path)])
        line = self.project.line_of("personas", self.name, *path)
        self.problems.append(Problem(self.project.shown(), line, message, where=where))

    def _check_keys(self) -> None:
        for key in self.raw:
            if key not in PERSONA_KEYS:
                self._problem((key,), f"unknown field '{key}'")
        adapter = self.raw.get("adapter") or ""
        if adapter not in ACCEPTED_ADAPTERS:
            self._problem(("adapter",), f"adapter '{adapter}' is not supported by wave-sandbox (only claude: "
                          "steps run wave-sandbox's own agent in a container)")
        hooks = self.raw.get("hooks")
        if hooks:
            self._problem(("hooks",), "persona hooks are refused: Wave runs them as commands on the host")
        temperature = self.raw.get("temperature")
        if temperature is not None and (not isinstance(temperature, (int, float)) or not 0 <= temperature <= 1):
            self._problem(("temperature",), f"temperature should be a number from 0 to 1, got {temperature!r}")

    @property
    def description(self) -> str:
        value = self.raw.get("description")
        return value if isinstance(value, str) else ""

    @property
    def temperature(self) -> float | None:
        value = self.raw.get("temperature")
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def system_prompt(self) -> str:
        """Wave's base protocol, a separator, then the persona's own prompt."""
        own = self._own_prompt()
        base = self._read_optional(BASE_PROTOCOL, ())
        return f"{base.strip()}{PROMPT_SEPARATOR}{own.strip()}" if base.strip() else own.strip()

    def _own_prompt(self) -> str:
        configured = self.raw.get("system_prompt_file")
        if isinstance(configured, str) and configured:
            try:
                return read_repository_text(self.repo, configured)
            except RepositoryPathError as error:
                self._problem(("system_prompt_file",), f"system_prompt_file '{configured}' {error}")
                return ""
        fallback = self._read_optional(f"{WAVE_PERSONAS_DIR}/{self.name}.md", ())
        return fallback or f"# {self.name}\n\nYou are operating as the {self.name} persona.\n"

    def _read_optional(self, relative: str, place: tuple[str, ...]) -> str:
        if not (self.repo / relative).exists() and not (self.repo / relative).is_symlink():
            return ""
        try:
            return read_repository_text(self.repo, relative)
        except RepositoryPathError as error:
            self.problems.append(Problem(relative, 1, f"{relative} {error}"))
            return ""

    def model(self, tiers: TierMap) -> str | None:
        """The concrete model id ("" or None: the run's default); a tier is resolved here."""
        value = self.raw.get("model")
        return resolve_model(value, tiers) if isinstance(value, str) else None

    def requested_model(self) -> str | None:
        value = self.raw.get("model")
        return value if isinstance(value, str) and value else None

    def tools(self, allowed_by_policy: set[str] | None) -> list[str]:
        """The sandbox tools this persona gets from Wave's allowed_tools and deny."""
        permissions = self.raw.get("permissions") if isinstance(self.raw.get("permissions"), dict) else {}
        allowed = _texts(permissions.get("allowed_tools"))
        denied = _texts(permissions.get("deny"))
        granted = self._granted(allowed) if allowed else ["bash", "read_file", "write_file", "list_files", "grep"]
        for rule in denied:
            granted = [tool for tool in granted if tool not in self._denied(rule)]
        if "*" in allowed and allowed_by_policy is not None:
            granted = [tool for tool in granted if tool in allowed_by_policy]
        return granted

    def _granted(self, allowed: list[str]) -> list[str]:
        granted: list[str] = []
        for rule in allowed:
            for tool in self._tools_of_rule(rule, "allowed_tools"):
                if tool not in granted:
                    granted.append(tool)
        return [tool for tool in AGENT_TOOLS if tool in granted]

    def _denied(self, rule: str) -> set[str]:
        return set(self._tools_of_rule(rule, "deny", removes=True))

    def _tools_of_rule(self, rule: str, field: str, removes: bool = False) -> list[str]:
        if rule == "*":
            return list(AGENT_TOOLS)
        pattern = TOOL_PATTERN.match(rule)
        if pattern:
            self._advise(f"{self.name}: {field} '{rule}' is not enforced as a pattern (the container is the boundary)")
            tool = WAVE_TOOL_TO_AGENT_TOOL.get(pattern.group(1))
            return [] if removes or tool is None else [tool]
        tool = WAVE_TOOL_TO_AGENT_TOOL.get(rule)
        if tool is None:
            self._advise(f"{self.name}: {field} '{rule}' names no sandbox tool")
            return []
        return [tool]

    def _advise(self, text: str) -> None:
        if text not in self.advisories:
            self.advisories.append(text)

    def skills(self) -> list[str]:
        return _texts(self.raw.get("skills"))

    def token_scopes(self) -> list[str]:
        return _texts(self.raw.get("token_scopes"))

    def allowed_domains(self) -> list[str]:
        sandbox = self.raw.get("sandbox") if isinstance(self.raw.get("sandbox"), dict) else {}
        return _texts(sandbox.get("allowed_domains"))

    def model_line(self) -> tuple[str, int]:
        return self.project.shown(), self.project.line_of("personas", self.name, "model")

    def uses_tier(self) -> bool:
        return is_tier(self.raw.get("model"))


def _texts(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def policy_tools(ceilings) -> set[str] | None:
    """The tools the operator's policy allows (None when the ceilings do not say)."""
    allowed = getattr(ceilings, "allowed_tools", None)
    return set(allowed) if allowed is not None else None


def placed_at_wave_yaml(found: list[Problem], definition: WavePersonaDefinition) -> list[Problem]:
    """A model refusal found on Wave's definition is reported at wave.yaml's `model:` line."""
    placed = []
    for problem in found:
        if problem.where == "model" and definition.requested_model():
            shown, line = definition.model_line()
            requested = definition.requested_model()
            message = problem.message.removeprefix("default ")
            if definition.uses_tier():
                message = f"tier '{requested}' maps to {message}"
            placed.append(Problem(shown, line, message, where=f"personas.{definition.name}.model"))
        else:
            placed.append(problem)
    return placed


def wave_origin(files, project: WaveProject) -> str:
    parts = [f"wave ({project.shown()})" + (" over built-in" if files.builtin_prompt.is_file() else "")]
    for what, path in (("prompt", files.repo_prompt), ("settings", files.repo_settings)):
        if path.is_file():
            parts.append(f"{what} from {display_path(path)}")
    return ", ".join(parts)
