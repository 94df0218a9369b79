"""A ready Persona from a wave.yaml definition, merged by precedence with `.wave/personas` and a built-in.

`.wave/personas/<name>.md` replaces the prompt and `.wave/personas/<name>.yaml` the settings it sets (the
repository's own limits for wave-sandbox), over Wave's definition (prompt, model, tools, temperature),
over the built-in persona of the same name (limits, turns, token budget). The model, tier resolved,
and every tool must be allowed by the operator's policy.
"""

from __future__ import annotations

from wave_sandbox.spec.ceiling_checks import Ceilings, persona_ceiling_problems
from wave_sandbox.spec.model_tiers import TierMap
from wave_sandbox.spec.personas import Persona, PersonaFiles, _load_settings, _read_prompt, read_settings_file
from wave_sandbox.spec.problems import Problem, display_path
from wave_sandbox.spec.wave_personas import WavePersonaDefinition
from wave_sandbox.spec.wave_project import WaveProject, load_wave_project


def tier_map_of(project: WaveProject) -> TierMap:
    return TierMap.of(project.complexity_map, project.tier_models)


def build_wave_persona(name: str, files: PersonaFiles, problems: list[Problem], ceilings: Ceilings) -> Persona | None:
    found_before = len(problems)
    project = load_wave_project(files.repo, problems)
    definition = WavePersonaDefinition(name, project, files.repo, problems)
    settings = _load_settings(files, problems)
    repo_keys = set(read_settings_file(files.repo_settings, []) if files.repo_settings.is_file() else {})
    tools = list(settings.tools) if "tools" in repo_keys else definition.tools(_policy_tools(ceilings))
    model = settings.model if "model" in repo_keys else (definition.model(tier_map_of(project)) or None)
    settings = settings.model_copy(update={"tools": tools, "model": model})
    if len(problems) == found_before:
        problems.extend(_placed_at_wave_yaml(persona_ceiling_problems(files, settings, ceilings), definition))
    prompt = _read_prompt(files.repo_prompt, problems) if files.repo_prompt.is_file() else definition.system_prompt()
    if len(problems) > found_before:
        return None
    return Persona(
        name=name, description=definition.description or settings.description, system_prompt=prompt, tools=tools,
        model=model, max_tokens=settings.max_tokens, max_turns=settings.max_turns, limits=settings.limits,
        origin=_origin(files, project), temperature=definition.temperature,
        requested_model=definition.requested_model(), skills=definition.skills(),
        token_scopes=definition.token_scopes(), allowed_domains=definition.allowed_domains(),
        advisories=definition.advisories,
    )


def _policy_tools(ceilings: Ceilings) -> set[str] | None:
    allowed = getattr(ceilings, "allowed_tools", None)
    return set(allowed) if allowed is not None else None


def _placed_at_wave_yaml(found: list[Problem], definition: WavePersonaDefinition) -> list[Problem]:
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


def _origin(files: PersonaFiles, project: WaveProject) -> str:
    parts = [f"wave ({project.shown()})" + (" over built-in" if files.builtin_prompt.is_file() else "")]
    for what, path in (("prompt", files.repo_prompt), ("settings", files.repo_settings)):
        if path.is_file():
            parts.append(f"{what} from {display_path(path)}")
    return ", ".join(parts)
