"""The three settings files, their places and their strict shapes.

- the operator's policy, `/etc/wave-sandbox/policy.yaml` (`WAVE_SANDBOX_POLICY_FILE` moves it, for
  tests and for hosts without /etc access; a repository cannot set the environment, so it cannot
  move it): ceilings only;
- the user's `$XDG_CONFIG_HOME/wave-sandbox/config.yaml` (default `~/.config/...`): values, and
  ceilings under `policy:`;
- the repository's `.wave/config.yaml`: defaults only (model id, parallelism, step timeout). Keys
  that would let a repository send the operator's key elsewhere or loosen the sandbox (upstream URL,
  keys, runtime, masks, mounts, policy) are refused by name.

Each is read with the project's YAML loader (YAML 1.2, alias budget) and a pydantic model that
forbids unknown keys; every problem is one `FILE:LINE: place: message` line (SpecError).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from wave_sandbox.errors import SpecError
from wave_sandbox.spec.problems import Problem, ProblemCollector, display_path, sorted_problem_lines
from wave_sandbox.spec.schema_errors import add_schema_problems
from wave_sandbox.spec.yaml_loader import YamlDocument, YamlSyntaxError, parse_yaml
from wave_sandbox.units import parse_duration

SYSTEM_POLICY_FILE = Path("/etc/wave-sandbox/policy.yaml")
POLICY_FILE_VARIABLE = "WAVE_SANDBOX_POLICY_FILE"
REPOSITORY_CONFIG = Path(".wave") / "config.yaml"
Runtime = Literal["runc", "runsc"]
AgentTool = Literal["bash", "read_file", "write_file", "edit_file", "list_files", "grep"]
MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
STRICT = ConfigDict(extra="forbid")


def _seconds(value: object) -> object:
    """`step_timeout_s: 900`, or with a unit as people write it: `15m`, `90s`, `2h`."""
    return parse_duration(value) if isinstance(value, str) else value


Duration = Annotated[int, BeforeValidator(_seconds), Field(ge=1)]
REFUSED_IN_REPOSITORY = {
    "upstream_url": "an upstream URL would send the operator's key elsewhere",
    "upstream_local": "how the upstream is treated is the operator's choice",
    "api_key": "keys stay on the host", "key": "keys stay on the host",
    "runtime": "the container runtime is the operator's choice", "masks": "masks only add, in .wave/masks",
    "mounts": "mounts are declared per step in the pipeline", "policy": "ceilings are the operator's",
    "prices": "prices are the user's, so a repository cannot make a run look cheaper than it is",
    "step_tokens": "budgets are the operator's: a repository would choose the bill",
    "run_tokens": "budgets are the operator's: a repository would choose the bill",
    "max_cost": "budgets are the operator's: a repository would choose the bill",
}


class PolicyFile(BaseModel):
    """Ceilings, as `/etc/wave-sandbox/policy.yaml` or the user's `policy:` section sets them."""

    model_config = STRICT
    memory_mb: int | None = Field(default=None, ge=64)
    """Most memory one step's container may have."""
    cpus: float | None = Field(default=None, gt=0)
    """Most CPU cores one step's container may have."""
    pids: int | None = Field(default=None, ge=16)
    """Most processes and threads in one step's container."""
    step_timeout_s: Duration | None = None
    """Longest wall-clock time of one step (`14400`, or `4h`)."""
    workspace_mb: int | None = Field(default=None, ge=1)
    """Largest writable /workspace of one step."""
    clone_mb: int | None = Field(default=None, ge=1)
    """Largest read-write clone of the repository."""
    transcript_step_mb: int | None = Field(default=None, ge=1)
    """Most transcript bytes one step may leave on the host."""
    transcript_run_mb: int | None = Field(default=None, ge=1)
    """Most transcript bytes one run may leave on the host."""
    allowed_models: list[str] | None = None
    """Model ids a run may use (shell-style patterns such as `claude-*`)."""
    allowed_tools: list[AgentTool] | None = None
    """Tools a persona may offer the model."""
    allowed_runtimes: list[Runtime] | None = None
    """Container runtimes a run may use."""
    default_runtime: Runtime | None = None
    """The runtime when no flag, variable or user setting chooses one."""


class PriceSetting(BaseModel):
    """One model's prices in USD per million tokens; cache prices default to the published multipliers."""

    model_config = STRICT
    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float | None = Field(default=None, ge=0)
    cache_read: float | None = Field(default=None, ge=0)


class UserConfigFile(BaseModel):
    """`~/.config/wave-sandbox/config.yaml`: the user's values, and ceilings under `policy:`."""

    model_config = STRICT
    model: str | None = None
    """The model spec, as `--model` takes it."""
    upstream_url: str | None = None
    """Another address for the upstream: a proxy, or an Anthropic- or OpenAI-compatible server."""
    upstream_local: bool | None = None
    """The upstream_url server is a local one (a small model): constrain and recover its tool calls."""
    max_parallel: int | None = Field(default=None, ge=1)
    """Steps at once."""
    step_timeout_s: Duration | None = None
    """Seconds per step unless the pipeline says otherwise (`900`, or `15m`)."""
    runtime: Runtime | None = None
    """The container runtime."""
    step_tokens: int | None = Field(default=None, ge=1)
    """The token budget of one step."""
    run_tokens: int | None = Field(default=None, ge=1)
    """The token budget of a run."""
    max_cost_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False, alias="max_cost")
    """The most a run may spend on model requests, in USD (`max_cost: 2.50`)."""
    policy: PolicyFile | None = None
    """Ceilings; the stricter of these and the system policy's wins."""
    prices: dict[str, PriceSetting] | None = None
    """Prices per model id (USD per million tokens), over the published table; never from a repository."""


class RepositoryConfigFile(BaseModel):
    """`.wave/config.yaml`: what a repository may suggest."""

    model_config = STRICT
    model: str | None = Field(default=None, pattern=MODEL_ID.pattern)
    """A model id (no upstream, no script): the run's default model."""
    max_parallel: int | None = Field(default=None, ge=1)
    """Steps at once."""
    step_timeout_s: Duration | None = None
    """Seconds per step unless the pipeline says otherwise (`900`, or `15m`)."""


def policy_file_path() -> Path:
    return Path(os.environ.get(POLICY_FILE_VARIABLE) or SYSTEM_POLICY_FILE)


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "wave-sandbox" / "config.yaml"


def repository_config_path(repo: Path) -> Path:
    return repo / REPOSITORY_CONFIG


Model = TypeVar("Model", bound=BaseModel)


def read_settings_file(path: Path, model: type[Model]) -> tuple[Model | None, YamlDocument | None]:
    """The file's contents as `model` (None, None when there is no file); SpecError on any problem."""
    problems: list[Problem] = []
    found = read_settings_file_collecting(path, model, problems)
    if problems:
        raise SpecError(sorted_problem_lines(problems))
    return found


def read_settings_file_collecting(
    path: Path, model: type[Model], problems: list[Problem]
) -> tuple[Model | None, YamlDocument | None]:
    """Like `read_settings_file`, appending problems instead of raising."""
    if not path.is_file():
        return None, None
    shown = display_path(path)
    try:
        document = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(shown, 1, f"cannot read settings: {error}"))
        return None, None
    except YamlSyntaxError as error:
        problems.append(Problem(shown, error.line, error.message))
        return None, None
    return _validated(document, shown, model, problems), document


def _validated(document: YamlDocument, shown: str, model: type[Model], problems: list[Problem]) -> Model | None:
    data = {} if document.data is None else document.data
    if not isinstance(data, dict):
        problems.append(Problem(shown, 1, "settings should be a mapping (key: value lines)"))
        return None
    collector = ProblemCollector(shown, document)
    for path, _ in document.duplicate_keys:
        collector.add(path, f"duplicate key '{path[-1]}'", where_path=path[:-1])
    if model is RepositoryConfigFile:
        data = _without_refused_keys(data, collector)
    try:
        parsed = model.model_validate(data)
    except ValidationError as error:
        add_schema_problems(error, data, collector, model)
        parsed = None
    problems.extend(collector.problems)
    return parsed  # even beside refused keys, so the values left are still checked against the ceilings


def _without_refused_keys(data: dict, collector: ProblemCollector) -> dict:
    """Report each key a repository may never set, by name and why; drop it from what is validated."""
    for key in data:
        if key in REFUSED_IN_REPOSITORY:
            collector.add((key,), f"only the operator sets this, never a repository: {REFUSED_IN_REPOSITORY[key]}")
    return {key: value for key, value in data.items() if key not in REFUSED_IN_REPOSITORY}
