"""Wave's check of an injected artifact against `inject_artifacts[].schema_path`, before the step starts.

The upstream step's artifact is read from the run record (where its own contracts already passed) and
checked with the same JSON Schema machinery as a json_schema contract; a mismatch fails the consuming
step with one line naming the artifact, the schema and the first errors. A missing artifact is fine
when the injection is `optional`, as in Wave.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from wave_sandbox.contracts import SchemaFileError, validation_errors
from wave_sandbox.contracts.json_depth import loads_bounded
from wave_sandbox.spec.contract_validation import load_json_schema
from wave_sandbox.spec.loader import LoadedPipeline
from wave_sandbox.spec.models import InjectArtifact, Step

SHOWN_ERRORS = 3


def injected_schema_problems(loaded: LoadedPipeline, step: Step, artifact_path: Callable[[str, str], Path]) -> list[str]:
    """One line per injected artifact that does not match its schema_path (`artifact_path(step, name)` finds it)."""
    problems = []
    for injection in step.memory.inject_artifacts:
        if injection.schema_path and injection.step:
            problem = _problem(loaded, injection, artifact_path(injection.step, injection.artifact))
            if problem:
                problems.append(problem)
    return problems


def _problem(loaded: LoadedPipeline, injection: InjectArtifact, path: Path) -> str | None:
    shown = f"injected artifact '{injection.as_}' (step {injection.step})"
    if not path.is_file():
        return None if injection.optional else f"{shown} is missing"
    try:
        schema = load_json_schema(injection.schema_path, loaded.path.parent.absolute(), loaded.repo)
        errors = validation_errors(loads_bounded(path.read_text(encoding="utf-8")), schema)
    except SchemaFileError as error:
        return f"{shown}: {error}"
    except (OSError, UnicodeDecodeError, ValueError) as error:
        return f"{shown} is not valid JSON: {error}"
    if not errors:
        return None
    return f"{shown} does not match {injection.schema_path}: {'; '.join(errors[:SHOWN_ERRORS])}"
