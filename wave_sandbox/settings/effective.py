"""Effective settings: each value from the highest source that sets it, checked against the ceilings.

Sources, highest first (DESIGN.md, Settings): flags; environment (`WAVE_SANDBOX_*`); the user's
config; the repository's `.wave/config.yaml` (model id, parallelism, step timeout only); built-ins.
Every value, a flag's included, must fit the operator's ceilings: one above is refused (exit 2)
naming the value, the ceiling and where each came from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from wave_sandbox.errors import CeilingError, ConfigurationError, SpecError
from wave_sandbox.settings.ceilings import Ceilings, load_ceilings
from wave_sandbox.settings.files import (
    RepositoryConfigFile,
    UserConfigFile,
    read_settings_file,
    read_settings_file_collecting,
    repository_config_path,
    user_config_path,
)
from wave_sandbox.spec.problems import Problem, ProblemCollector, display_path, sorted_problem_lines
from wave_sandbox.units import parse_duration

BUILT_IN = "built-in"
DEFAULT_STEP_TIMEOUT_S = 900
DEFAULT_STEP_TOKENS = 4_000_000
DEFAULT_RUN_TOKENS = 20_000_000
FLAG_NAMES = {"model": "--model", "upstream_url": "--upstream-url", "max_parallel": "--max-parallel",
              "step_timeout_s": "--step-timeout", "runtime": "--runtime", "upstream_local": "--upstream-local",
              "step_tokens": "--step-tokens", "run_tokens": "--run-tokens", "max_cost_usd": "--max-cost"}
ENVIRONMENT_NAMES = {"model": "WAVE_SANDBOX_MODEL", "upstream_url": "WAVE_SANDBOX_UPSTREAM_URL",
                     "max_parallel": "WAVE_SANDBOX_MAX_PARALLEL", "step_timeout_s": "WAVE_SANDBOX_STEP_TIMEOUT",
                     "runtime": "WAVE_SANDBOX_RUNTIME", "upstream_local": "WAVE_SANDBOX_UPSTREAM_LOCAL",
                     "step_tokens": "WAVE_SANDBOX_STEP_TOKENS", "run_tokens": "WAVE_SANDBOX_RUN_TOKENS",
                     "max_cost_usd": "WAVE_SANDBOX_MAX_COST"}
WHOLE_NUMBERS = ("max_parallel", "step_tokens", "run_tokens")
YES_OR_NO = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


@dataclass(frozen=True)
class SettingFlags:
    """What the command line set (None: not given)."""

    model: str | None = None
    upstream_url: str | None = None
    max_parallel: int | None = None
    step_timeout_s: int | None = None
    runtime: str | None = None
    upstream_local: bool | None = None
    step_tokens: int | None = None
    run_tokens: int | None = None
    max_cost_usd: float | None = None


@dataclass(frozen=True)
class Setting:
    """One effective value and the source it came from (`flag --model`, a file path, `built-in`)."""

    value: Any
    source: str


@dataclass(frozen=True)
class Settings:
    """The values a run uses; `ceilings` binds them and everything the repository asks for."""

    model: Setting
    upstream_url: Setting
    max_parallel: Setting
    step_timeout_s: Setting
    runtime: Setting
    upstream_local: Setting
    step_tokens: Setting
    """The token budget of one step (input and output, every request)."""
    run_tokens: Setting
    """The token budget of the whole run."""
    max_cost_usd: Setting
    """The most a run may spend on model requests (None: no limit but the token budgets)."""
    ceilings: Ceilings

    def rows(self) -> list[tuple[str, str, str]]:
        """(name, value, source) of every value and ceiling, for `doctor`."""
        values = [(f.name, getattr(self, f.name)) for f in fields(self) if f.name != "ceilings"]
        rows = [(name, _shown(setting.value), setting.source) for name, setting in values]
        return rows + ceiling_rows(self.ceilings)


def ceiling_rows(ceilings: Ceilings) -> list[tuple[str, str, str]]:
    rows = []
    for f in fields(ceilings):
        if f.name in ("sources", "model_patterns"):
            continue
        rows.append((f"policy.{f.name}", _shown(getattr(ceilings, f.name)), ceilings.sources[f.name]))
    rows.append(("policy.allowed_models", ceilings.allowed_models_text(), ceilings.sources["allowed_models"]))
    return rows


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, tuple):
        return ", ".join(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def resolve_settings(
    repo: Path | None, flags: SettingFlags = SettingFlags(), environ: Mapping[str, str] | None = None
) -> Settings:
    """The effective settings for a command run against `repo` (None: no repository), checked against
    the ceilings: SpecError for a malformed file or a repository value above a ceiling, CeilingError
    for a flag, variable or user value above one."""
    environ = os.environ if environ is None else environ
    ceilings = load_ceilings()
    user, _ = read_settings_file(user_config_path(), UserConfigFile)
    repository = checked_repository_config(repo, ceilings) if repo is not None else None
    layers = [
        ({name: getattr(flags, name) for name in FLAG_NAMES}, lambda name: f"flag {FLAG_NAMES[name]}"),
        (_environment_values(environ), lambda name: f"environment {ENVIRONMENT_NAMES[name]}"),
        (user.model_dump() if user else {}, lambda name: str(user_config_path())),
        (_repository_values(repository), lambda name: display_path(repository_config_path(repo))),
    ]
    built_in = {"model": None, "upstream_url": None, "max_parallel": os.cpu_count() or 2,
                "step_timeout_s": DEFAULT_STEP_TIMEOUT_S, "runtime": ceilings.default_runtime, "upstream_local": False,
                "step_tokens": DEFAULT_STEP_TOKENS, "run_tokens": DEFAULT_RUN_TOKENS, "max_cost_usd": None}
    built_in_sources = {name: BUILT_IN for name in built_in}
    built_in_sources["runtime"] = f"default_runtime, {ceilings.sources['default_runtime']}"
    chosen = {name: _first_set(name, layers, built_in[name], built_in_sources[name]) for name in FLAG_NAMES}
    settings = Settings(**chosen, ceilings=ceilings)
    _refuse_above_ceilings(settings)
    return settings


def _first_set(name: str, layers: list, built_in: Any, built_in_source: str) -> Setting:
    for values, label in layers:
        if values.get(name) is not None:
            return Setting(values[name], label(name))
    return Setting(built_in, built_in_source)


def _environment_values(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, variable in ENVIRONMENT_NAMES.items():
        text = environ.get(variable, "").strip()
        if not text:
            continue
        if name in WHOLE_NUMBERS:
            if not text.isdigit() or int(text) < 1:
                raise ConfigurationError(f"{variable}={text!r} should be a whole number of at least 1")
            values[name] = int(text)
        elif name == "step_timeout_s":
            values[name] = _duration(variable, text)
        elif name == "max_cost_usd":
            values[name] = _amount(variable, text)
        elif name == "upstream_local":
            if text.lower() not in YES_OR_NO:
                raise ConfigurationError(f"{variable}={text!r} should be 1 or 0 (true or false)")
            values[name] = YES_OR_NO[text.lower()]
        else:
            values[name] = text
    return values


def _duration(variable: str, text: str) -> int:
    try:
        seconds = parse_duration(text)
    except ValueError as error:
        raise ConfigurationError(f"{variable}: {error}") from error
    if seconds < 1:
        raise ConfigurationError(f"{variable}={text!r} should be at least 1 s")
    return seconds


def _amount(variable: str, text: str) -> float:
    try:
        amount = float(text.removeprefix("$"))
    except ValueError:
        amount = -1.0
    if not amount >= 0 or amount == float("inf"):
        raise ConfigurationError(f"{variable}={text!r} should be an amount in USD such as 2.50")
    return amount


def _repository_values(repository: RepositoryConfigFile | None) -> dict[str, Any]:
    if repository is None:
        return {}
    values = repository.model_dump()
    if values.get("model"):
        values["model"] = f"anthropic:{values['model']}"  # a model id only: the upstream is the operator's
    return values


def _refuse_above_ceilings(settings: Settings) -> None:
    ceilings = settings.ceilings
    refusals = [
        (settings.step_timeout_s, ceilings.above("step_timeout_s", settings.step_timeout_s.value)),
        (settings.runtime, ceilings.runtime_refusal(settings.runtime.value)),
        (settings.model, _model_refusal(settings.model.value, ceilings)),
    ]
    for setting, refusal in refusals:
        if refusal:
            raise CeilingError(f"{setting.source}: {refusal}")


def _model_refusal(spec: str | None, ceilings: Ceilings) -> str | None:
    """Only an explicit `anthropic:ID` can be judged here; the launch checks the model finally chosen."""
    if not spec or not spec.startswith("anthropic:") or not spec.partition(":")[2]:
        return None
    return ceilings.model_refusal(spec.partition(":")[2])


def checked_repository_config(repo: Path, ceilings: Ceilings) -> RepositoryConfigFile | None:
    """The repository's `.wave/config.yaml`, or SpecError naming each refused key and value above a ceiling."""
    problems: list[Problem] = []
    config = repository_config_collecting(repo, ceilings, problems)
    if problems:
        raise SpecError(sorted_problem_lines(problems))
    return config


def repository_config_collecting(
    repo: Path, ceilings: Ceilings, problems: list[Problem]
) -> RepositoryConfigFile | None:
    """Like `checked_repository_config`, appending problems (for `validate`, beside the pipeline's)."""
    path = repository_config_path(repo)
    config, document = read_settings_file_collecting(path, RepositoryConfigFile, problems)
    if config is None or document is None:
        return None
    collector = ProblemCollector(display_path(path), document)
    if config.step_timeout_s is not None and (refusal := ceilings.above("step_timeout_s", config.step_timeout_s)):
        collector.add(("step_timeout_s",), refusal)
    if config.model is not None and (refusal := ceilings.model_refusal(config.model)):
        collector.add(("model",), refusal)
    problems.extend(collector.problems)
    return config if not collector.problems else None
