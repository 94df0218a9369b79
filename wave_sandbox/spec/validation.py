"""The checks beyond the schema: the step graph, artifacts, mounts, personas and templates.

Runs on every step that parses once its malformed fields are dropped (those the schema check reported),
so one `validate` reports every problem it can find, not just the first kind.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from wave_sandbox.spec.composition import is_host_step
from wave_sandbox.spec.command_checks import check_command_step, check_subset_sources
from wave_sandbox.spec.contract_validation import check_step_contracts
from wave_sandbox.spec.control_validation import check_step_control
from wave_sandbox.spec.graph import find_cycles, upstream_of
from wave_sandbox.spec.models import Step
from wave_sandbox.spec.problems import ProblemCollector
from wave_sandbox.spec.templating import template_problems
from wave_sandbox.spec.yaml_loader import Path_

SAFE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
PLAIN_NAME = "letters, digits, '.', '_' or '-'"
RESERVED_CONTAINER_PATHS = ("/workspace", "/wave")
# What the container itself needs: a mount there is refused by the runtime (/proc, /dev, /sys,
# /.dockerenv), hides the programs and files every step needs (the agent in /opt/wave-sandbox), or is
# silently hidden by the container's own tmpfs (/tmp, /home).
SYSTEM_CONTAINER_PATHS = (
    "/.dockerenv", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32",
    "/opt/wave-sandbox", "/proc", "/run", "/sbin", "/sys", "/tmp", "/usr", "/var",
)  # fmt: skip


@dataclass
class IndexedStep:
    """A step that parsed, with its index in `steps` (its place in messages)."""

    index: int
    step: Step
    malformed_fields: frozenset[str] = frozenset()
    """Fields dropped because the schema check rejected them (and reported them already)."""

    def path(self, *parts: str | int) -> Path_:
        return ("steps", self.index) + parts


@dataclass
class SemanticCheck:
    """What the checks need: where to report, the repository, and the steps."""

    collector: ProblemCollector
    repo: Path
    steps: list[IndexedStep]
    all_step_ids: list[str]
    persona_names: list[str]
    refused_step_indexes: set[int] = field(default_factory=set)
    pipeline_folder: Path | None = None
    """The pipeline file's folder, where a contract's schema_path is looked up first."""
    persona_templates: dict[int, str] = field(default_factory=dict)
    """Step index -> the persona as written, for steps whose persona had placeholders (`{{ forge.type }}-analyst`)."""

    def add(self, path: Path_, message: str, where: Path_ | None = None) -> None:
        self.collector.add(path, message, where_path=where)

    def dependencies(self) -> dict[str, list[str]]:
        """Step id -> the ids it depends on (first step of a duplicated id wins)."""
        graph: dict[str, list[str]] = {}
        for indexed in self.steps:
            graph.setdefault(indexed.step.id, list(indexed.step.dependencies))
        return graph


def check_semantics(check: SemanticCheck, raw: Any) -> None:
    """Run every semantic rule; problems land in `check.collector`."""
    check_metadata(check, raw)
    check_step_ids(check, raw)
    check_dependencies_and_cycles(check)
    for indexed in check.steps:
        if is_host_step(indexed.step):
            continue  # a composition step or conditional node runs on the host: no persona, no prompt
        check_step_basics(check, indexed)
        check_exec(check, indexed)
        check_mounts(check, indexed)
        check_subset_sources(check, indexed)
        check_injections(check, indexed)
        check_step_contracts(check, indexed)
        check_step_control(check, indexed)
    check_artifacts(check)


def check_metadata(check: SemanticCheck, raw: Any) -> None:
    metadata = raw.get("metadata") if isinstance(raw, dict) else None
    if not isinstance(metadata, dict):
        return
    name = metadata.get("name")
    if isinstance(name, str) and not SAFE_NAME_PATTERN.match(name):
        message = f"name '{name}' should be {PLAIN_NAME} (it names the run branch)"
        check.add(("metadata", "name"), message, ("metadata",))
    if metadata.get("disabled") is True:
        check.add(("metadata", "disabled"), "this pipeline is disabled; set disabled to false to run it")
    if isinstance(raw.get("steps"), list) and not raw["steps"]:
        check.add(("steps",), "the pipeline has no steps")


def check_step_ids(check: SemanticCheck, raw: Any) -> None:
    """Ids are checked on the raw steps, so a duplicate is found even beside a malformed step."""
    raw_steps = raw.get("steps") if isinstance(raw, dict) else None
    first_index: dict[str, int] = {}
    for index, raw_step in enumerate(raw_steps if isinstance(raw_steps, list) else []):
        step_id = raw_step.get("id") if isinstance(raw_step, dict) else None
        if not isinstance(step_id, str):
            continue
        if not SAFE_NAME_PATTERN.match(step_id):
            message = f"step id '{step_id}' should be {PLAIN_NAME} (it names folders and containers)"
            check.add(("steps", index, "id"), message)
        if step_id in first_index:
            check.add(("steps", index, "id"), f"duplicate step id '{step_id}' (also steps[{first_index[step_id]}])")
        first_index.setdefault(step_id, index)


def check_dependencies_and_cycles(check: SemanticCheck) -> None:
    for indexed in check.steps:
        for position, dependency in enumerate(indexed.step.dependencies):
            if dependency not in check.all_step_ids:
                where = indexed.path("dependencies")
                check.add(where + (position,), f"unknown step '{dependency}'", where)
    graph = check.dependencies()
    for cycle in find_cycles(graph):
        _report_cycle(check, cycle)


def _report_cycle(check: SemanticCheck, cycle: list[str]) -> None:
    first = next(indexed for indexed in check.steps if indexed.step.id == cycle[0])
    closing_dependency = cycle[-2]  # the step that the first one waits for, closing the loop
    position = first.step.dependencies.index(closing_dependency)
    message = f"cycle: {' -> '.join(cycle)} (each step waits for the one before it)"
    check.add(first.path("dependencies", position), message, first.path("dependencies"))


def check_step_basics(check: SemanticCheck, indexed: IndexedStep) -> None:
    step = indexed.step
    if step.is_command:  # a command step runs a script, with no persona and no prompt
        check_command_step(check, indexed)
    elif step.persona is None:
        if indexed.index not in check.refused_step_indexes and "persona" not in indexed.malformed_fields:
            check.add(indexed.path(), "missing required field 'persona'")
    elif step.persona not in check.persona_names:
        available = ", ".join(check.persona_names)
        written = check.persona_templates.get(indexed.index)
        source = f" (from '{written}')" if written else ""
        check.add(indexed.path("persona"), f"unknown persona '{step.persona}'{source} (available: {available})")
    if step.timeout_minutes is not None and step.timeout_minutes <= 0:
        check.add(indexed.path("timeout_minutes"), f"should be more than 0, got {step.timeout_minutes:g}")


def check_exec(check: SemanticCheck, indexed: IndexedStep) -> None:
    execution = indexed.step.exec
    if indexed.step.is_command:
        return
    if execution is None or (execution.source is None and execution.source_path is None):
        if indexed.index not in check.refused_step_indexes and "exec" not in indexed.malformed_fields:
            where = indexed.path("exec") if execution else indexed.path()
            check.add(where, "needs a prompt: exec.source (inline) or exec.source_path (a file)")
        return
    if execution.source is not None and execution.source_path is not None:
        message = "give exec.source or exec.source_path, not both"
        check.add(indexed.path("exec", "source_path"), message, indexed.path("exec"))
    if execution.source is not None and not execution.source.strip():
        check.add(indexed.path("exec", "source"), "the prompt is empty", indexed.path("exec"))
    elif execution.source is not None:
        _check_template(check, indexed.path("exec", "source"), execution.source)
    elif execution.source_path is not None:
        _check_prompt_file(check, indexed, execution.source_path)


def _check_prompt_file(check: SemanticCheck, indexed: IndexedStep, source_path: str) -> None:
    key = indexed.path("exec", "source_path")
    prompt_file = (check.repo / source_path).resolve()
    if not is_inside(prompt_file, check.repo):
        check.add(key, f"source_path '{source_path}' lies outside the repository", indexed.path("exec"))
    elif not prompt_file.is_file():
        check.add(key, f"source_path '{source_path}': no such file in the repository", indexed.path("exec"))
    else:
        try:
            _check_template(check, key, prompt_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            check.add(key, f"source_path '{source_path}' cannot be read: {error}", indexed.path("exec"))


def _check_template(check: SemanticCheck, path: Path_, text: str) -> None:
    for message in template_problems(text):
        check.add(path, message)


def check_mounts(check: SemanticCheck, indexed: IndexedStep) -> None:
    targets_seen: set[str] = set()
    for position, mount in enumerate(indexed.step.mounts):
        mount_path = indexed.path("workspace", "mount", position)
        _check_mount_source(check, mount_path, mount.source)
        target = _check_mount_target(check, mount_path, mount.target)
        if target is not None and target in targets_seen:
            check.add(mount_path + ("target",), f"target '{target}' is mounted twice", mount_path)
        if target is not None:
            targets_seen.add(target)


def _check_mount_source(check: SemanticCheck, mount_path: Path_, source: str) -> None:
    resolved = (check.repo / source).resolve()
    if not is_inside(resolved, check.repo):
        message = f"source '{source}' resolves outside the repository ({resolved})"
        check.add(mount_path + ("source",), message, mount_path)
    elif not resolved.is_dir():
        check.add(mount_path + ("source",), f"source '{source}' is not a folder of the repository", mount_path)


def _check_mount_target(check: SemanticCheck, mount_path: Path_, target: str) -> str | None:
    key = mount_path + ("target",)
    if not target.startswith("/"):
        check.add(key, f"target '{target}' should be an absolute path such as /src", mount_path)
        return None
    normalized = "/" + posixpath.normpath(target).lstrip("/")  # normpath keeps POSIX's leading `//`
    if normalized == "/":
        check.add(key, "target '/' would hide the container's whole filesystem", mount_path)
    for reserved in RESERVED_CONTAINER_PATHS:
        if _lies_under(normalized, reserved):
            check.add(key, f"target '{target}' lies under {reserved}, which wave-sandbox manages", mount_path)
    for system in SYSTEM_CONTAINER_PATHS:
        if _lies_under(normalized, system):
            message = f"target '{target}' lies under {system}, which the container itself needs; use a folder such as /src"
            check.add(key, message, mount_path)
    return normalized


def _lies_under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + "/")


def check_injections(check: SemanticCheck, indexed: IndexedStep) -> None:
    graph = check.dependencies()
    upstream = upstream_of(indexed.step.id, graph)
    names_seen: set[str] = set()
    for position, injection in enumerate(indexed.step.memory.inject_artifacts):
        place = indexed.path("memory", "inject_artifacts", position)
        _check_injected_name(check, place, injection.as_, names_seen)
        if injection.step is None:
            continue  # the parent pipeline's artifact: checked when the sub-pipeline starts
        _check_injected_source(check, indexed, place, injection.step, injection.artifact, upstream)
        _check_injected_type(check, place, injection)


def _check_injected_name(check: SemanticCheck, place: Path_, name: str, names_seen: set[str]) -> None:
    if not SAFE_NAME_PATTERN.match(name) or name in (".", ".."):
        check.add(place + ("as",), f"as '{name}' should be a plain file name ({PLAIN_NAME})", place)
    elif name in names_seen:
        check.add(place + ("as",), f"as '{name}' is used twice in this step", place)
    names_seen.add(name)


def _check_injected_source(
    check: SemanticCheck, indexed: IndexedStep, place: Path_, source_id: str, artifact: str, upstream: set[str]
) -> None:
    if source_id not in check.all_step_ids:
        check.add(place + ("step",), f"step '{source_id}' does not exist", place)
        return
    if source_id not in upstream:
        check.add(
            place + ("step",),
            f"step '{source_id}' is not upstream of '{indexed.step.id}': "
            "add it to dependencies, directly or through another step",
            place,
        )
    source = next((other.step for other in check.steps if other.step.id == source_id), None)
    declared = [output.name for output in source.output_artifacts] if source and not is_host_step(source) else None
    if declared is not None and artifact not in declared:
        shown = ", ".join(declared) if declared else "none"
        message = f"step '{source_id}' declares no artifact '{artifact}' (it declares: {shown})"
        check.add(place + ("artifact",), message, place)


def _check_injected_type(check: SemanticCheck, place: Path_, injection) -> None:
    """Wave's injectArtifacts compares `type` with the producer's declared type (both set) and fails the
    step on a mismatch; the producer is in the same file, so the mismatch is reported before the run."""
    source = next((other.step for other in check.steps if other.step.id == injection.step), None)
    if source is None or is_host_step(source):
        return
    declared = injection.conflicting_type(source)
    if declared:
        message = (f"type '{injection.type}' does not match the type step '{injection.step}' declares for "
                   f"artifact '{injection.artifact}' ({declared}); Wave fails the step with an artifact type mismatch")
        check.add(place + ("type",), message, place)


def check_artifacts(check: SemanticCheck) -> None:
    """Artifact paths stay in /workspace, and no two artifacts of a run share a path or file name."""
    by_path: dict[str, str] = {}
    by_file_name: dict[str, str] = {}
    for indexed in check.steps:
        names_seen: set[str] = set()
        for position, artifact in enumerate(indexed.step.output_artifacts):
            place = indexed.path("output_artifacts", position)
            if artifact.name in names_seen:
                check.add(place + ("name",), f"artifact '{artifact.name}' is declared twice in this step", place)
            names_seen.add(artifact.name)
            normalized = _check_artifact_path(check, place, artifact.path, artifact.source)
            if normalized is not None:
                owner = f"steps[{indexed.index}] ({indexed.step.id}) artifact '{artifact.name}'"
                _check_collisions(check, place, normalized, owner, by_path, by_file_name)


def _check_artifact_path(check: SemanticCheck, place: Path_, path: str | None, source: str | None) -> str | None:
    if path is None:
        if source != "stdout":  # stdout capture is refused as not supported instead
            check.add(place, "missing required field 'path'")
        return None
    if path.startswith("/"):
        example = f"output/{PurePosixPath(path).name}"
        check.add(place + ("path",), f"path '{path}' should be relative to /workspace, e.g. {example}", place)
        return None
    normalized = posixpath.normpath(path)
    if normalized == ".." or normalized.startswith("../") or normalized == "." or path.endswith("/"):
        check.add(place + ("path",), f"path '{path}' should name a file inside /workspace", place)
        return None
    return normalized


def _check_collisions(
    check: SemanticCheck, place: Path_, normalized: str, owner: str,
    by_path: dict[str, str], by_file_name: dict[str, str],
) -> None:
    file_name = PurePosixPath(normalized).name
    if normalized in by_path:
        check.add(place + ("path",), f"path '{normalized}' is also written by {by_path[normalized]}", place)
    elif file_name in by_file_name:
        check.add(
            place + ("path",),
            f"file name '{file_name}' is also used by {by_file_name[file_name]}; they would collide in --output",
            place,
        )
    by_path.setdefault(normalized, owner)
    by_file_name.setdefault(file_name, owner)


def is_inside(path: Path, folder: Path) -> bool:
    """True when the resolved `path` is `folder` or lies below it (symlinks resolved on both)."""
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True
