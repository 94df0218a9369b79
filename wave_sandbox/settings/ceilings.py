"""The operator's ceilings: what no flag, variable, user setting or repository file may exceed.

They come from the system policy file and the `policy:` section of the user's config; when both set
a ceiling the stricter one wins (the lower number, the narrower list, `runsc` over `runc`). Unset
ceilings take the built-in defaults below, chosen to fit a developer's machine while stopping a
repository from asking for the host (DESIGN.md, Settings; SECURITY.md, the repository).
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from typing import Any, get_args

from wave_sandbox.errors import ConfigurationError
from wave_sandbox.settings.files import (
    AgentTool,
    PolicyFile,
    Runtime,
    UserConfigFile,
    policy_file_path,
    read_settings_file,
    user_config_path,
)

BUILT_IN = "built-in default"
NUMBER_CEILINGS = (
    "memory_mb", "cpus", "pids", "step_timeout_s", "workspace_mb", "clone_mb", "transcript_step_mb",
    "transcript_run_mb",
)
UNITS = {"memory_mb": " MB", "workspace_mb": " MB", "clone_mb": " MB", "transcript_step_mb": " MB",
         "transcript_run_mb": " MB", "step_timeout_s": " s", "cpus": " CPUs", "pids": " processes"}
RUNTIME_STRICTNESS = ("runc", "runsc")  # later is stricter


def default_ceilings() -> dict[str, Any]:
    """The ceilings when no policy sets them (README, Settings, lists them)."""
    return {
        "memory_mb": 8192, "cpus": float(max(2, os.cpu_count() or 1)), "pids": 4096, "step_timeout_s": 4 * 3600,
        "workspace_mb": 2048, "clone_mb": 4096, "transcript_step_mb": 64, "transcript_run_mb": 256,
        "allowed_tools": tuple(get_args(AgentTool)), "allowed_runtimes": tuple(get_args(Runtime)),
        "default_runtime": "runc",
    }


@dataclass(frozen=True)
class Ceilings:
    """The effective ceilings, each with the source that set it (`sources[name]`)."""

    memory_mb: int
    cpus: float
    pids: int
    step_timeout_s: int
    workspace_mb: int
    clone_mb: int
    transcript_step_mb: int
    transcript_run_mb: int
    allowed_tools: tuple[str, ...]
    allowed_runtimes: tuple[str, ...]
    default_runtime: str
    model_patterns: tuple[tuple[str, ...], ...] = ()
    """One allowlist per policy that sets one; a model id must match a pattern of each."""
    sources: dict[str, str] = field(default_factory=dict)

    def allows_model(self, model_id: str) -> bool:
        return all(any(fnmatch.fnmatchcase(model_id, p) for p in patterns) for patterns in self.model_patterns)

    def allowed_models_text(self) -> str:
        return " and ".join("(" + ", ".join(patterns) + ")" for patterns in self.model_patterns) or "any"

    def above(self, name: str, value: float, shown_value: str | None = None) -> str | None:
        """Why `value` breaks the ceiling `name`, naming both, or None when it fits."""
        ceiling = getattr(self, name)
        if value <= ceiling:
            return None
        unit = UNITS.get(name, "")
        shown_value = shown_value or f"{shown_number(value)}{unit}"
        shown_ceiling = f"{shown_number(ceiling)}{unit}"
        return f"{shown_value} is above the operator's ceiling of {shown_ceiling} ({self.source_of(name)})"

    def source_of(self, name: str) -> str:
        """Where the ceiling `name` comes from; for a built-in default, where an operator would raise it."""
        source = self.sources[name]
        return f"{source}; an operator raises it in {policy_file_path()}" if source == BUILT_IN else source

    def model_refusal(self, model_id: str) -> str | None:
        if self.allows_model(model_id):
            return None
        return f"model '{model_id}' is not allowed by the operator's policy (allowed: {self.allowed_models_text()}; " \
               f"{self.source_of('allowed_models')})"

    def tool_refusal(self, tool: str) -> str | None:
        if tool in self.allowed_tools:
            return None
        return f"tool '{tool}' is not allowed by the operator's policy (allowed: " \
               f"{', '.join(self.allowed_tools) or 'none'}; {self.source_of('allowed_tools')})"

    def runtime_refusal(self, runtime: str) -> str | None:
        if runtime in self.allowed_runtimes:
            return None
        return f"runtime '{runtime}' is not allowed by the operator's policy (allowed: " \
               f"{', '.join(self.allowed_runtimes)}; {self.source_of('allowed_runtimes')})"


def shown_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def load_ceilings() -> Ceilings:
    """The ceilings from the policy file and the user's config (SpecError when one is malformed)."""
    system_policy, _ = read_settings_file(policy_file_path(), PolicyFile)
    user_config, _ = read_settings_file(user_config_path(), UserConfigFile)
    policies = [(system_policy, f"policy {policy_file_path()}")]
    if user_config is not None:
        policies.append((user_config.policy, f"policy in {user_config_path()}"))
    return combine_policies([(policy, label) for policy, label in policies if policy is not None])


def combine_policies(policies: list[tuple[PolicyFile, str]]) -> Ceilings:
    """The stricter of each ceiling the policies set; built-in defaults for the rest."""
    values = default_ceilings()
    sources = {name: BUILT_IN for name in list(values) + ["allowed_models"]}
    for name in NUMBER_CEILINGS:
        for policy, label in policies:
            value = getattr(policy, name)
            if value is not None and (sources[name] == BUILT_IN or value < values[name]):
                values[name], sources[name] = value, label
    for name in ("allowed_tools", "allowed_runtimes"):
        _narrow_list(name, policies, values, sources)
    _strictest_default_runtime(policies, values, sources)
    model_lists = [(tuple(p.allowed_models), label) for p, label in policies if p.allowed_models is not None]
    if model_lists:
        sources["allowed_models"] = ", ".join(label for _, label in model_lists)
    return Ceilings(**values, model_patterns=tuple(patterns for patterns, _ in model_lists), sources=sources)


def _narrow_list(name: str, policies: list[tuple[PolicyFile, str]], values: dict, sources: dict) -> None:
    for policy, label in policies:
        chosen = getattr(policy, name)
        if chosen is not None:
            values[name] = tuple(item for item in values[name] if item in chosen)
            sources[name] = label if sources[name] == BUILT_IN else f"{sources[name]}, {label}"


def _strictest_default_runtime(policies: list[tuple[PolicyFile, str]], values: dict, sources: dict) -> None:
    for policy, label in policies:
        chosen = policy.default_runtime
        current = RUNTIME_STRICTNESS.index(values["default_runtime"])
        if chosen is not None and RUNTIME_STRICTNESS.index(chosen) >= current:
            values["default_runtime"], sources["default_runtime"] = chosen, label
    if not values["allowed_runtimes"]:
        raise ConfigurationError(f"the operator's policies allow no container runtime ({sources['allowed_runtimes']})")
    if values["default_runtime"] not in values["allowed_runtimes"]:
        values["default_runtime"] = values["allowed_runtimes"][-1]
        sources["default_runtime"] = sources["allowed_runtimes"]
