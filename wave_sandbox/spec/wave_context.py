"""What loading a pipeline knows about the Wave project around it, and the checks that need it.

Persona placeholders (`persona: "{{ forge.type }}-analyst"`) are resolved before lookup, as Wave
resolves them with its pipeline context; the skills a persona or wave.yaml names must be in the
repository's skill store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from wave_sandbox.spec.model_tiers import TierMap
from wave_sandbox.spec.problems import Problem
from wave_sandbox.spec.skills import SkillError, find_skill
from wave_sandbox.spec.templating import PLACEHOLDER_PATTERN
from wave_sandbox.spec.wave_project import WaveProject
from wave_sandbox.spec.wave_variables import RepositoryVariables

if TYPE_CHECKING:
    from wave_sandbox.spec.personas import Persona
    from wave_sandbox.spec.validation import IndexedStep


@dataclass
class WaveContext:
    wave: WaveProject
    variables: RepositoryVariables
    persona_templates: dict[str, str] = field(default_factory=dict)
    """Step id -> persona as written, for each step whose persona had placeholders."""

    @property
    def tiers(self) -> TierMap:
        return TierMap.of(self.wave.complexity_map, self.wave.tier_models)


def resolve_persona_placeholders(steps: list[IndexedStep], context: WaveContext) -> dict[int, str]:
    """Replace each step's templated persona by its resolved name; return index -> the name as written."""
    written: dict[int, str] = {}
    for indexed in steps:
        persona = indexed.step.persona
        if persona and PLACEHOLDER_PATTERN.search(persona):
            indexed.step.persona = context.variables.render(persona)
            written[indexed.index] = persona
            context.persona_templates[indexed.step.id] = persona
    return written


def add_persona_skill_problems(
    personas: dict[str, Persona], wave: WaveProject, repo: Path, problems: list[Problem]
) -> None:
    """A used persona's skills, and wave.yaml's global skills, must be in the repository's store."""
    if not personas:
        return
    for position, name in enumerate(wave.skills):
        _check_skill(repo, name, problems, wave.shown(), wave.line_of("skills", position), "skills")
    for persona in personas.values():
        for position, name in enumerate(persona.skills):
            line = wave.line_of("personas", persona.name, "skills", position)
            _check_skill(repo, name, problems, wave.shown(), line, f"personas.{persona.name}.skills")


def _check_skill(repo: Path, name: str, problems: list[Problem], shown: str, line: int, where: str) -> None:
    try:
        find_skill(repo, name)
    except SkillError as error:
        problems.append(Problem(shown, line, str(error), where=where))
