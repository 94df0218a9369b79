"""Wave's artifact locations inside a step's working folder (/workspace), beside /wave/artifacts/<as>.

Wave (issue #1452 of re-cinq/wave) gives every step its dependencies' artifacts at
`.agents/artifacts/<dep>/<file name>`, with an alias at `.agents/output/<file name>`, and each
`inject_artifacts` entry at `.agents/artifacts/<as>`. Command steps also get `WAVE_DEPS_DIR` and one
`WAVE_DEP_<DEP>_<NAME>` variable per dependency artifact, naming its path. The files are copies of the
run record's artifacts, written into the step's own volume before it starts: changing them changes
nothing but the step's copy.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from wave_sandbox.engine.artifacts import DeclaredArtifact
from wave_sandbox.engine.records import RunRecord
from wave_sandbox.spec.models import Pipeline, Step

__all__ = ["AGENTS_ARTIFACTS", "AGENTS_OUTPUT", "WORKSPACE", "wave_artifact_files", "dependency_variables", "env_slug"]

WORKSPACE = "/workspace"
AGENTS_ARTIFACTS = ".agents/artifacts"
AGENTS_OUTPUT = ".agents/output"
_NOT_ALPHANUMERIC = re.compile(r"[^A-Z0-9]")


def env_slug(text: str) -> str:
    """Wave's envSlug: upper case, every other byte `_`."""
    return _NOT_ALPHANUMERIC.sub("_", text.upper())


def _recorded(record: RunRecord, step_id: str, declared: DeclaredArtifact) -> Path | None:
    host = record.artifacts_folder(step_id) / declared.file_name
    return host if host.is_file() and not host.is_symlink() else None


def _dependency_artifacts(pipeline: Pipeline, step: Step, record: RunRecord):
    """(dependency id, artifact name, file name, recorded host file) of every artifact the step's
    dependencies left in the run record."""
    for dependency in step.dependencies:
        for artifact in pipeline.step(dependency).output_artifacts:
            declared = DeclaredArtifact(artifact.name, artifact.path or artifact.name, artifact.type)
            host = _recorded(record, dependency, declared)
            if host is not None:
                yield dependency, artifact.name, declared.file_name, host


def wave_artifact_files(pipeline: Pipeline, step: Step, record: RunRecord, injected: list[tuple[str, Path]]) -> dict[str, Path]:
    """Path relative to /workspace -> host file to copy there: dependencies' artifacts, their aliases,
    and each injected artifact under its `as` name (unless a dependency's folder has that name)."""
    files: dict[str, Path] = {}
    folders = set(step.dependencies)
    for dependency, _, file_name, host in _dependency_artifacts(pipeline, step, record):
        files[f"{AGENTS_ARTIFACTS}/{dependency}/{file_name}"] = host
        files[f"{AGENTS_OUTPUT}/{file_name}"] = host
    for as_name, host in injected:
        if as_name not in folders and host.is_file():
            files[f"{AGENTS_ARTIFACTS}/{as_name}"] = host
    own_outputs = {str(PurePosixPath(a.path)) for a in step.output_artifacts if a.path}
    return {path: host for path, host in files.items() if path not in own_outputs}


def dependency_variables(pipeline: Pipeline, step: Step, record: RunRecord) -> dict[str, str]:
    """WAVE_DEPS_DIR and WAVE_DEP_<DEP>_<NAME> as Wave sets them for a command step (container paths)."""
    variables = {"WAVE_DEPS_DIR": f"{WORKSPACE}/{AGENTS_ARTIFACTS}"}
    for dependency, name, file_name, _ in _dependency_artifacts(pipeline, step, record):
        variables[f"WAVE_DEP_{env_slug(dependency)}_{env_slug(name)}"] = (
            f"{WORKSPACE}/{AGENTS_ARTIFACTS}/{dependency}/{file_name}"
        )
    return variables
