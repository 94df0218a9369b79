"""The parts of a step's job that come from Wave's project conventions.

Template variables (the repository's `project.*`, `forge.*`, `branch_name`, and per step
`artifacts.<as>` -> `/wave/artifacts/<as>`), the model (a tier resolved through the repository's
mapping), the system prompt (the persona's, then Wave's "Available Skills" section and its
sub-agent hint), the skills mounted read-only at `/wave/skills/<name>`, and the thread context.
"""

from __future__ import annotations

from wave_sandbox.bind_mount import BindMount, MountRole
from wave_sandbox.engine.step_prompt import ARTIFACTS_IN
from wave_sandbox.engine.threads import thread_context
from wave_sandbox.spec.loader import LoadedPipeline
from wave_sandbox.spec.model_tiers import resolve_model
from wave_sandbox.spec.models import Step
from wave_sandbox.spec.personas import Persona
from wave_sandbox.spec.skills import Skill, find_skill, resolved_skill_names, skills_prompt_section

MAX_CONCURRENT_AGENTS_CAP = 10


def wave_variables(loaded: LoadedPipeline, step: Step) -> dict[str, str]:
    values = dict(loaded.variables.values) if loaded.variables else {}
    values["run.name"] = loaded.name
    values["pipeline_context.pipeline_name"] = loaded.name
    values["pipeline_context.step_id"] = step.id
    for injection in step.memory.inject_artifacts:
        values[f"artifacts.{injection.as_}"] = f"{ARTIFACTS_IN}/{injection.as_}"
    return values


def step_model(step: Step, persona: Persona, loaded: LoadedPipeline, default_model: str, explicit: bool) -> str:
    """The step's model (a tier resolved; balanced or "" means the run's default), then --model, then the persona's."""
    if step.model:
        return resolve_model(step.model, loaded.tiers) or default_model
    if explicit or not persona.model:
        return default_model
    return persona.model


def step_skills(loaded: LoadedPipeline, step: Step, persona: Persona) -> list[Skill]:
    """Wave's ResolveSkills: wave.yaml's, the persona's, the pipeline's and the step's skills, sorted."""
    pipeline_skills = loaded.pipeline.skills if isinstance(loaded.pipeline.skills, list) else []
    scopes = [loaded.wave.skills, persona.skills, [s for s in pipeline_skills if isinstance(s, str)], step.skills]
    render = loaded.variables.render if loaded.variables else (lambda text: text)
    return [find_skill(loaded.repo, name) for name in resolved_skill_names(scopes, render)]


def skill_mounts(skills: list[Skill]) -> list[BindMount]:
    return [BindMount(skill.folder.resolve(), skill.container_path, True, MountRole.SKILL) for skill in skills]


def system_prompt(persona: Persona, skills: list[Skill], step: Step) -> str:
    prompt = persona.system_prompt + skills_prompt_section(skills)
    count = step.max_concurrent_agents if isinstance(step.max_concurrent_agents, int) else 0
    if count > 1:
        count = min(count, MAX_CONCURRENT_AGENTS_CAP)
        prompt += f"\n\n---\n\n\n\n## Agent Concurrency\n\nYou may spawn up to {count} concurrent sub-agents or workers for this step.\n"
    return prompt


def with_thread_context(loaded: LoadedPipeline, step: Step, prompt: str, step_folder_of) -> str:
    return thread_context(loaded.pipeline, step, step_folder_of) + prompt
