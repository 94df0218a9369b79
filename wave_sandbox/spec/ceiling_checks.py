"""What a pipeline or persona asks for, checked against the operator's ceilings at validation.

A repository's `.wave/` is untrusted input (SECURITY.md): its personas' limits, models and tools and
its steps' `timeout_minutes` and `model` may choose only within the policy. Each value above a
ceiling is one problem at the line that sets it, naming the value, the ceiling and its source.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from wave_sandbox.spec.model_tiers import TierMap, is_tier, resolve_model
from wave_sandbox.spec.problems import Problem, ProblemCollector, describe_path, display_path
from wave_sandbox.spec.yaml_loader import Path_, YamlSyntaxError, parse_yaml

if TYPE_CHECKING:
    from wave_sandbox.spec.personas import PersonaFiles, PersonaSettings
    from wave_sandbox.spec.validation import IndexedStep

PERSONA_LIMITS = ("memory_mb", "cpus", "pids", "workspace_mb")


class Ceilings(Protocol):
    """What spec asks of the operator's ceilings (``settings.Ceilings``; callers pass
    ``settings.load_ceilings()``, so spec never imports settings, which reads files with spec's YAML loader)."""

    def above(self, name: str, value: float, shown_value: str | None = None) -> str | None: ...

    def model_refusal(self, model_id: str) -> str | None: ...

    def tool_refusal(self, tool: str) -> str | None: ...


def add_step_ceiling_problems(
    steps: list[IndexedStep], collector: ProblemCollector, ceilings: Ceilings, tiers: TierMap | None = None
) -> None:
    for indexed in steps:
        step = indexed.step
        if step.timeout_minutes is not None and step.timeout_minutes > 0:
            seconds = step.timeout_minutes * 60
            shown = f"{step.timeout_minutes:g} minutes ({seconds:.0f} s)"
            if refusal := ceilings.above("step_timeout_s", seconds, shown):
                collector.add(indexed.path("timeout_minutes"), refusal)
        model = resolve_model(step.model, tiers or TierMap())
        if model and (refusal := ceilings.model_refusal(model)):
            shown = f"tier '{step.model}' maps to {refusal} ({(tiers or TierMap()).source_of(step.model)})" \
                if is_tier(step.model) else refusal
            collector.add(indexed.path("model"), shown)


def persona_ceiling_problems(files: PersonaFiles, settings: PersonaSettings, ceilings: Ceilings) -> list[Problem]:
    """One problem per persona setting above a ceiling, at the file and line that set it."""
    refusals: list[tuple[Path_, str]] = []
    for name in PERSONA_LIMITS:
        refusal = ceilings.above(name, getattr(settings.limits, name))
        if refusal:
            refusals.append((("limits", name), refusal))
    if settings.model and (refusal := ceilings.model_refusal(settings.model)):
        refusals.append((("model",), refusal))
    for index, tool in enumerate(settings.tools):
        if refusal := ceilings.tool_refusal(tool):
            refusals.append((("tools", index), refusal))
    return [_placed(files, path, refusal) for path, refusal in refusals]


def _placed(files: PersonaFiles, path: Path_, message: str) -> Problem:
    """At the last settings file that sets `path` (the repository's before the built-in's)."""
    for settings_file in (files.repo_settings, files.builtin_settings):
        line = _line_setting(settings_file, path)
        if line is not None:
            return Problem(display_path(settings_file), line, message, where=describe_path(path))
    prompt = files.prompt_file() or files.builtin_prompt
    return Problem(display_path(prompt), 1, f"default {message}", where=describe_path(path))


def _line_setting(settings_file: Path, path: Path_) -> int | None:
    if not settings_file.is_file():
        return None
    try:
        document = parse_yaml(settings_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, YamlSyntaxError):
        return None
    return document.lines.get(tuple(path))
