"""Personas: a system prompt, the tools it may use, model settings and container limits.

Built-ins live in `wave_sandbox/personas/NAME.md` (the prompt) and `NAME.yaml` (the settings). A
repository overrides them in `.wave/personas/`: `NAME.md` replaces the prompt (a plain prompt, as
Wave keeps them), `NAME.yaml` overrides some settings (strict, like every spec file). A repository
may define a new persona with `NAME.md` (and optionally `NAME.yaml`; unset settings take defaults).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wave_sandbox.errors import PersonaNotFoundError, SpecError
from wave_sandbox.resources import builtin_personas_dir
from wave_sandbox.spec.ceiling_checks import Ceilings, persona_ceiling_problems
from wave_sandbox.spec.models import Step
from wave_sandbox.spec.problems import Problem, ProblemCollector, display_path, raise_if_problems
from wave_sandbox.spec.schema_errors import add_schema_problems
from wave_sandbox.spec.tool_names import tools_of_rule
from wave_sandbox.spec.model_tiers import TierMap
from wave_sandbox.spec.wave_personas import WavePersonaDefinition, placed_at_wave_yaml, policy_tools, wave_origin
from wave_sandbox.spec.wave_project import load_wave_project, wave_persona_names
from wave_sandbox.spec.yaml_loader import YamlDocument, YamlSyntaxError, parse_yaml


REPO_PERSONAS_DIR = Path(".wave") / "personas"
PERSONA_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
DEFAULT_TOOLS = ["bash", "read_file", "write_file", "list_files", "grep"]

AgentTool = Literal["bash", "read_file", "write_file", "edit_file", "list_files", "grep"]
STRICT = ConfigDict(extra="forbid")
DEFAULT_CLONE_MB = 2048
"""The read-write clone's disk ceiling when the persona (and the operator's policy) ask for none lower."""


class PersonaLimits(BaseModel):
    """What one step's container may use."""

    model_config = STRICT
    cpus: float = Field(default=1.0, gt=0)
    """CPU cores (may be fractional)."""
    memory_mb: int = Field(default=1024, ge=64)
    """Memory limit, swap included."""
    pids: int = Field(default=256, ge=16)
    """Most processes and threads at once."""
    workspace_mb: int = Field(default=256, ge=1)
    """Size of the writable `/workspace`."""
    clone_mb: int = Field(default=DEFAULT_CLONE_MB, ge=1)
    """Most disk the read-write clone (working tree and `.git`) may hold while a read-write step runs."""


class PersonaSettings(BaseModel):
    """The contents of a persona's `NAME.yaml`; every field has a default, so a file may set a few."""

    model_config = STRICT
    description: str = ""
    """One line shown by `wave-sandbox list`."""
    tools: list[AgentTool] = Field(default_factory=lambda: list(DEFAULT_TOOLS))
    """Tools offered to the model."""
    model: str | None = None
    """A model id within the chosen upstream; null means the run's default model."""
    max_tokens: int = Field(default=8192, ge=1)
    """Most output tokens per model answer."""
    max_turns: int = Field(default=40, ge=1)
    """Most model turns in one step."""
    limits: PersonaLimits = Field(default_factory=PersonaLimits)
    """Container limits."""
    context_window: int | None = Field(default=None, ge=1024)
    """Tokens the model reads at most; null means the model's published window."""


class Persona(BaseModel):
    """A persona ready to run: prompt and settings merged from the built-in and the repository."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str
    system_prompt: str
    tools: list[str]
    model: str | None
    max_tokens: int
    max_turns: int
    limits: PersonaLimits
    origin: str = "built-in"
    """Where it came from, for `list`: `built-in`, `repository`, or `built-in, <what> from <file>`."""
    context_window: int | None = None
    """The persona's `context_window` setting (None: the model's)."""
    temperature: float | None = None
    """Wave's persona temperature (wave.yaml), sent with each model request; None leaves the model's default."""
    requested_model: str | None = None
    """The model as the repository wrote it (a Wave tier such as `cheapest`, or an id), before resolution."""
    skills: list[str] = Field(default_factory=list)
    """Wave's persona skills, mounted read-only in each step the persona runs."""
    token_scopes: list[str] = Field(default_factory=list)
    """Wave's forge token scopes: recorded and announced, never given to a container."""
    allowed_domains: list[str] = Field(default_factory=list)
    """Wave's sandbox.allowed_domains: recorded and announced, never given to a container (no network)."""
    advisories: list[str] = Field(default_factory=list)
    """Wave permission rules kept as advice only (command patterns, tools the sandbox lacks)."""


def repo_personas_dir(repo: Path) -> Path:
    return repo / REPO_PERSONAS_DIR


def persona_names(repo: Path) -> list[str]:
    """Every persona available in `repo`: the built-ins and those the repository defines."""
    names = {path.stem for path in builtin_personas_dir().glob("*.md")}
    repo_dir = repo_personas_dir(repo)
    if repo_dir.is_dir():
        names |= {path.stem for path in repo_dir.glob("*.md") if PERSONA_NAME_PATTERN.match(path.stem)}
    names.discard("README")
    names |= wave_persona_names(repo)
    return sorted(names)


def list_personas(repo: Path, ceilings: Ceilings) -> list[Persona]:
    """Every persona available in `repo`, loaded (SpecError when one of them is broken)."""
    return [load_persona(name, repo, ceilings) for name in persona_names(repo)]


def load_persona(name: str, repo: Path, ceilings: Ceilings) -> Persona:
    """The persona `name` with the repository's overrides (PersonaNotFoundError, SpecError), within
    the operator's ceilings (the active policy: `settings.load_ceilings()`)."""
    problems: list[Problem] = []
    persona = load_persona_collecting(name, repo, problems, ceilings)
    raise_if_problems(problems)
    assert persona is not None
    return persona


def load_persona_collecting(
    name: str, repo: Path, problems: list[Problem], ceilings: Ceilings
) -> Persona | None:
    """Like `load_persona`, but appends problems in its files to `problems` instead of raising
    SpecError (returns None then), so a pipeline check can report them with its own."""
    files = PersonaFiles(name, repo)
    if PERSONA_NAME_PATTERN.match(name) and name in wave_persona_names(repo):
        return _wave_persona(name, files, problems, ceilings)
    if not PERSONA_NAME_PATTERN.match(name) or not files.prompt_file():
        raise _not_found(name, repo, files)
    found_before = len(problems)
    _refuse_files_leaving_the_repository(files, problems)
    settings = _load_settings(files, problems)
    if len(problems) == found_before:
        problems.extend(persona_ceiling_problems(files, settings, ceilings))
    prompt = _read_prompt(files.prompt_file(), problems)
    if len(problems) > found_before:
        return None
    return Persona(
        name=name, description=settings.description, system_prompt=prompt, tools=list(settings.tools),
        model=settings.model, max_tokens=settings.max_tokens, max_turns=settings.max_turns,
        limits=settings.limits, origin=files.origin(), context_window=settings.context_window,
    )


def _wave_persona(name: str, files: PersonaFiles, problems: list[Problem], ceilings: Ceilings) -> Persona | None:
    """A wave.yaml persona (wave_personas), under `.wave/personas/` and over the built-in of the same name."""
    found_before = len(problems)
    project = load_wave_project(files.repo, problems)
    definition = WavePersonaDefinition(name, project, files.repo, problems)
    settings = _load_settings(files, problems)
    repo_keys = set(read_settings_file(files.repo_settings, []) if files.repo_settings.is_file() else {})
    tools = list(settings.tools) if "tools" in repo_keys else definition.tools(policy_tools(ceilings))
    tiers = TierMap.of(project.complexity_map, project.tier_models)
    model = settings.model if "model" in repo_keys else (definition.model(tiers) or None)
    settings = settings.model_copy(update={"tools": tools, "model": model})
    if len(problems) == found_before:
        problems.extend(placed_at_wave_yaml(persona_ceiling_problems(files, settings, ceilings), definition))
    prompt = _read_prompt(files.repo_prompt, problems) if files.repo_prompt.is_file() else definition.system_prompt()
    if len(problems) > found_before:
        return None
    return Persona(
        name=name, description=definition.description or settings.description, system_prompt=prompt, tools=tools,
        model=model, max_tokens=settings.max_tokens, max_turns=settings.max_turns, limits=settings.limits,
        origin=wave_origin(files, project), temperature=definition.temperature,
        requested_model=definition.requested_model(), skills=definition.skills(),
        token_scopes=definition.token_scopes(), allowed_domains=definition.allowed_domains(),
        advisories=definition.advisories,
    )


def effective_tools(persona: Persona, step: Step) -> list[str]:
    """The persona's tools, narrowed by the step's `permissions.allowed_tools` when it has any (`"*"` keeps
    them all; a pattern such as `Bash(git log*)` keeps its tool), minus each tool `deny` names bare."""
    allowed_rules = step.permissions.allowed_tools if step.permissions else []
    deny_rules = step.permissions.deny if step.permissions else []
    tools = list(persona.tools)
    if allowed_rules:
        allowed = {tool for rule in allowed_rules for tool in tools_of_rule(rule)[0]}
        tools = [tool for tool in tools if tool in allowed]
    for rule in deny_rules:
        named, is_pattern = tools_of_rule(rule)
        if not is_pattern:
            tools = [tool for tool in tools if tool not in named]
    return tools


class PersonaFiles:
    """The up to four files that make one persona, and which of them exist."""

    def __init__(self, name: str, repo: Path):
        self.name = name
        self.repo = repo
        self.builtin_prompt = builtin_personas_dir() / f"{name}.md"
        self.builtin_settings = builtin_personas_dir() / f"{name}.yaml"
        self.repo_prompt = repo_personas_dir(repo) / f"{name}.md"
        self.repo_settings = repo_personas_dir(repo) / f"{name}.yaml"

    def prompt_file(self) -> Path | None:
        for candidate in (self.repo_prompt, self.builtin_prompt):
            if candidate.is_file():
                return candidate
        return None

    def origin(self) -> str:
        if not self.builtin_prompt.is_file():
            return "repository"
        overridden = [
            f"{what} from {display_path(path)}"
            for what, path in (("prompt", self.repo_prompt), ("settings", self.repo_settings))
            if path.is_file()
        ]
        return ", ".join(["built-in"] + overridden)


def _not_found(name: str, repo: Path, files: PersonaFiles) -> PersonaNotFoundError | SpecError:
    if PERSONA_NAME_PATTERN.match(name) and files.repo_settings.is_file():
        shown = display_path(files.repo_settings)
        prompt = display_path(files.repo_prompt)
        return SpecError([f"{shown}:1: persona '{name}' has settings but no prompt: add {prompt}"])
    available = ", ".join(persona_names(repo))
    return PersonaNotFoundError(
        f"no persona named '{name}' (available: {available}); "
        f"define it with {REPO_PERSONAS_DIR}/{name}.md in the repository"
    )


def _refuse_files_leaving_the_repository(files: PersonaFiles, problems: list[Problem]) -> None:
    """A repository's persona file may not be a symlink to a host file (it would reach the model)."""
    repo_root = files.repo.resolve()
    for path in (files.repo_prompt, files.repo_settings):
        if path.exists() and not path.resolve().is_relative_to(repo_root):
            message = "persona file resolves outside the repository; copy it in instead of linking"
            problems.append(Problem(display_path(path), 1, message))


def _load_settings(files: PersonaFiles, problems: list[Problem]) -> PersonaSettings:
    merged: dict[str, Any] = {}
    for path in (files.builtin_settings, files.repo_settings):
        if path.is_file():
            merged = _merge_settings(merged, read_settings_file(path, problems))
    try:
        return PersonaSettings.model_validate(merged)
    except ValidationError:  # each file was already checked on its own; keep the defaults
        return PersonaSettings()


def _merge_settings(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if key == "limits" and isinstance(value, dict) and isinstance(base.get("limits"), dict):
            merged["limits"] = {**base["limits"], **value}
        else:
            merged[key] = value
    return merged


def read_settings_file(path: Path, problems: list[Problem]) -> dict[str, Any]:
    """The settings mapping of one `NAME.yaml`, checked strictly; problems are appended."""
    shown = display_path(path)
    try:
        document = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(shown, 1, f"cannot read persona settings: {error}"))
        return {}
    except YamlSyntaxError as error:
        problems.append(Problem(shown, error.line, error.message))
        return {}
    return _checked_settings(document, shown, problems)


def _checked_settings(document: YamlDocument, shown: str, problems: list[Problem]) -> dict[str, Any]:
    if document.data is None:
        return {}
    if not isinstance(document.data, dict):
        problems.append(Problem(shown, 1, "persona settings should be a mapping (key: value lines)"))
        return {}
    collector = ProblemCollector(shown, document)
    for path, line in document.duplicate_keys:
        collector.add(path, f"duplicate key '{path[-1]}'", where_path=path[:-1])
    try:
        PersonaSettings.model_validate(document.data)
    except ValidationError as error:
        add_schema_problems(error, document.data, collector, PersonaSettings)
    problems.extend(collector.problems)
    return document.data if not collector.problems else {}


def _read_prompt(path: Path | None, problems: list[Problem]) -> str:
    assert path is not None  # load_persona checked that a prompt file exists
    try:
        prompt = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(display_path(path), 1, f"cannot read persona prompt: {error}"))
        return ""
    if not prompt:
        problems.append(Problem(display_path(path), 1, "persona prompt is empty"))
    return prompt
