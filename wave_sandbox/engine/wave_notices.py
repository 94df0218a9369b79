"""What a run says once, at its start, about a Wave project's asks it cannot or will not grant.

- Forge access: about a third of Wave's pipelines tell agents to use `gh` or push. Their intent is
  prose and cannot be checked, so they run; the run names what the pipeline asks for (`forge.*`
  variables, personas' `token_scopes`, an `env_passthrough` of a token, `requires.tools` such as gh)
  and that steps have no network and no forge token: the agent simply fails to reach the forge.
- What is never given to a container: `sandbox.allowed_domains`, `token_scopes`,
  `runtime.sandbox.env_passthrough`.
- Permission rules kept as advice only (command patterns; tool names the sandbox lacks).

The same facts, with the model-tier mapping, go to run.json under `wave` (`wave_record`).
"""

from __future__ import annotations

import re
from typing import Any

from wave_sandbox.spec.loader import LoadedPipeline
from wave_sandbox.spec.model_tiers import TIERS, is_tier
from wave_sandbox.spec.templating import placeholders_in
from wave_sandbox.spec.tool_names import tools_of_rule
from wave_sandbox.text_safety import printable_inline

FORGE_TOOLS = ("gh", "glab", "tea", "bb")
TOKEN_NAME = re.compile(r"(?i)(token|secret|key|password|pat|auth|credential)")


def forge_asks(loaded: LoadedPipeline) -> list[str]:
    """One phrase per kind of forge access the pipeline asks for."""
    asks = []
    variables = sorted({name for step in loaded.pipeline.steps for name in _step_placeholders(loaded, step)
                        if name.startswith("forge.")})
    if variables:
        asks.append("forge variables " + ", ".join(variables))
    for persona in _used_personas(loaded):
        if persona.token_scopes:
            asks.append(f"token_scopes {', '.join(persona.token_scopes)} (persona {persona.name})")
    tokens = [name for name in loaded.wave.env_passthrough if TOKEN_NAME.search(name)]
    if tokens:
        asks.append("env_passthrough of " + ", ".join(tokens))
    tools = [tool for tool in _required_tools(loaded) if tool in FORGE_TOOLS]
    if tools:
        asks.append("requires.tools " + ", ".join(tools))
    return asks


def withheld(loaded: LoadedPipeline) -> list[str]:
    """What the project grants under Wave that no container gets here."""
    phrases = []
    for persona in _used_personas(loaded):
        if persona.allowed_domains:
            phrases.append(f"sandbox.allowed_domains {', '.join(persona.allowed_domains)} (persona {persona.name})")
        if persona.token_scopes:
            phrases.append(f"token_scopes (persona {persona.name})")
    if loaded.wave.env_passthrough:
        phrases.append("runtime.sandbox.env_passthrough " + ", ".join(loaded.wave.env_passthrough))
    return phrases


def advisories(loaded: LoadedPipeline) -> list[str]:
    found = [advice for persona in _used_personas(loaded) for advice in persona.advisories]
    for step in loaded.pipeline.steps:
        rules = [*(step.permissions.allowed_tools if step.permissions else []),
                 *(step.permissions.deny if step.permissions else [])]
        for rule in rules:
            tools, is_pattern = tools_of_rule(rule)
            if is_pattern:
                found.append(f"step {step.id}: '{rule}' is not enforced as a pattern")
            elif not tools:
                found.append(f"step {step.id}: '{rule}' names no sandbox tool")
    return list(dict.fromkeys(found))


def wave_notices(loaded: LoadedPipeline) -> list[str]:
    notices = []
    asks = forge_asks(loaded)
    if asks:
        notices.append(f"notice: this pipeline asks for forge access ({'; '.join(asks)}); steps have no network "
                       "and no forge token, so a step that calls the forge or pushes fails to reach it")
    kept = withheld(loaded)
    if kept:
        notices.append(f"notice: never given to a container (steps have no network): {'; '.join(kept)}")
    advice = advisories(loaded)
    if advice:
        notices.append("notice: Wave permission rules kept as advice only (the container is the boundary): "
                       + "; ".join(advice))
    return [printable_inline(notice) for notice in notices]


def wave_record(loaded: LoadedPipeline) -> dict[str, Any] | None:
    """run.json's `wave` entry: tier mapping, tiers asked per step, resolved persona placeholders, notices."""
    step_tiers = {step.id: step.model for step in loaded.pipeline.steps if is_tier(step.model)}
    persona_tiers = {p.name: p.requested_model for p in _used_personas(loaded) if is_tier(p.requested_model)}
    record = {
        "model_tiers": {tier: loaded.tiers.model_for(tier) or "(the run's model)" for tier in TIERS}
        if step_tiers or persona_tiers else {},
        "step_tiers": step_tiers, "persona_tiers": persona_tiers, "personas": {step_id: f"{written} -> {loaded.pipeline.step(step_id).persona}"
                     for step_id, written in loaded.persona_templates.items()},
        "notices": wave_notices(loaded),
    }
    return record if any(record.values()) else None


def _used_personas(loaded: LoadedPipeline):
    names = list(dict.fromkeys(step.persona for step in loaded.pipeline.steps if step.persona))
    return [loaded.personas[name] for name in names if name in loaded.personas]


def _step_placeholders(loaded: LoadedPipeline, step) -> list[str]:
    if step.exec is None or (step.exec.source is None and step.exec.source_path is None):
        return []
    try:
        return placeholders_in(loaded.prompt_template(step))
    except (OSError, UnicodeDecodeError):
        return []


def _required_tools(loaded: LoadedPipeline) -> list[str]:
    requires = loaded.pipeline.requires if isinstance(loaded.pipeline.requires, dict) else {}
    tools = requires.get("tools")
    return [tool for tool in tools if isinstance(tool, str)] if isinstance(tools, list) else []
