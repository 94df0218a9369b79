"""Checks of the Wave fields accepted with Wave's meaning (the rest of a pipeline is checked elsewhere).

`adapter` (claude or unset; `browser` drives a browser on the network), `requires` (skills in the
repository's store; `install`, `init` and `check` are refused: Wave runs them on the host, and
installing needs the network; `requires.tools` is checked against the agent image when the run
starts), `skills` of the pipeline and its steps (in the store once templated), `thread`/`fidelity`,
`max_concurrent_agents`, and an injected artifact's `schema_path` (a file inside the repository).
Every problem names the field and why, at its line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from wave_sandbox.contracts import SchemaFileError, schema_problems
from wave_sandbox.spec.contract_validation import load_json_schema
from wave_sandbox.spec.problems import ProblemCollector
from wave_sandbox.spec.repo_paths import RepositoryPathError, resolve_in_repository
from wave_sandbox.spec.skills import SkillError, find_skill
from wave_sandbox.spec.unsupported import matching_paths
from wave_sandbox.spec.yaml_loader import Path_

FIDELITIES = ("full", "compact", "summary", "fresh")
HOST_COMMAND_FIELDS = {
    "install": "needs network access to install software, and Wave runs it as a command on the host",
    "init": "runs host commands (Wave runs it on the host before the pipeline)",
    "check": "runs host commands (Wave runs it on the host before the pipeline)",
}
BROWSER_REASON = "drives a web browser, which needs network access that steps do not have"


def add_wave_field_problems(data: Any, collector: ProblemCollector, repo: Path, render: Callable[[str], str]) -> None:
    if not isinstance(data, dict):
        return
    _check_adapters(data, collector)
    _check_requires(data, collector, repo)
    for path, names in [((), data.get("skills")), *matching_paths(data, ("steps", "*", "skills"))]:
        _check_skill_list(collector, repo, path if path else ("skills",), names, render)
    _check_threads(data, collector)
    _check_inject_schemas(data, collector, repo)


def _check_adapters(data: dict, collector: ProblemCollector) -> None:
    for path, adapter in matching_paths(data, ("steps", "*", "adapter")):
        if adapter in (None, "", "claude"):
            continue
        reason = BROWSER_REASON if adapter == "browser" else "steps run wave-sandbox's own agent; use claude or leave it out"
        collector.add(path, f"adapter '{adapter}' is refused: it {reason}" if adapter == "browser"
                      else f"adapter '{adapter}' is not supported by wave-sandbox ({reason})", where_path=path[:-1])


def _check_requires(data: dict, collector: ProblemCollector, repo: Path) -> None:
    requires = data.get("requires")
    if requires is None:
        return
    if not isinstance(requires, dict):
        collector.add(("requires",), "requires should be a mapping with tools and skills")
        return
    for key in requires:
        if key not in ("tools", "skills"):
            collector.add(("requires", key), f"unknown field '{key}'", where_path=("requires",))
    tools = requires.get("tools")
    if tools is not None and not (isinstance(tools, list) and all(isinstance(t, str) for t in tools)):
        collector.add(("requires", "tools"), "should be a list of command names", where_path=("requires",))
    skills = requires.get("skills")
    for name, config in (skills.items() if isinstance(skills, dict) else []):
        _check_required_skill(collector, repo, ("requires", "skills", name), str(name), config)


def _check_required_skill(collector: ProblemCollector, repo: Path, place: Path_, name: str, config: Any) -> None:
    for field, reason in HOST_COMMAND_FIELDS.items():
        if isinstance(config, dict) and config.get(field):
            collector.add(place + (field,), f"'{field}' is refused: it {reason}", where_path=place)
    try:
        find_skill(repo, name)
    except SkillError as error:
        collector.add(place, f"{error} (Wave's preflight needs it before the run starts)", where_path=place[:-1])


def _check_skill_list(collector: ProblemCollector, repo: Path, path: Path_, names: Any, render) -> None:
    if names is None:
        return
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        collector.add(path, "skills should be a list of skill names", where_path=path[:-1])
        return
    for position, name in enumerate(names):
        resolved = render(name).strip()
        if not resolved:
            continue  # `{{ project.skill }}` with no project.skill: Wave drops it
        try:
            find_skill(repo, resolved)
        except SkillError as error:
            shown = f"{error}" if resolved == name else f"'{name}' is '{resolved}': {error}"
            collector.add(path + (position,), shown, where_path=path)


def _check_threads(data: dict, collector: ProblemCollector) -> None:
    for path, thread in matching_paths(data, ("steps", "*", "thread")):
        if thread is not None and not isinstance(thread, str):
            collector.add(path, "thread should be a name (steps with the same thread share their answers)", where_path=path[:-1])
    for path, fidelity in matching_paths(data, ("steps", "*", "fidelity")):
        if fidelity not in (None, "") and fidelity not in FIDELITIES:
            collector.add(path, f"fidelity '{fidelity}' should be one of {', '.join(FIDELITIES)}", where_path=path[:-1])
    for path, count in matching_paths(data, ("steps", "*", "max_concurrent_agents")):
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
            collector.add(path, f"max_concurrent_agents should be a whole number, got {count!r}", where_path=path[:-1])


def _check_inject_schemas(data: dict, collector: ProblemCollector, repo: Path) -> None:
    for path, schema_path in matching_paths(data, ("steps", "*", "memory", "inject_artifacts", "*", "schema_path")):
        if not isinstance(schema_path, str) or not schema_path:
            continue
        try:
            resolve_in_repository(repo, schema_path)
            problems = schema_problems(load_json_schema(schema_path, repo, repo))
        except RepositoryPathError as error:
            problems = [str(error)]
        except SchemaFileError as error:
            collector.add(path, str(error), where_path=path[:-1])
            continue
        for problem in problems:
            collector.add(path, f"schema_path '{schema_path}' {problem}", where_path=path[:-1])
