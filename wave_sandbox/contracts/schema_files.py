"""Find and read the JSON Schema file a `json_schema` contract names in `schema_path`.

A pipeline may ship its schemas beside itself (the built-in incident-response keeps
`schemas/triage.schema.json` next to its YAML), and Wave keeps them in the repository
(`.wave/contracts/x.schema.json`, relative to the project root). So `schema_path` is looked up beside
the pipeline file first, then in the repository; it must not leave the folder it is found in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wave_sandbox.contracts.json_depth import loads_bounded
from wave_sandbox.errors import ConfigurationError


class SchemaFileError(ConfigurationError):
    """A contract's schema file is missing, unreadable or not JSON (one line, says what to do)."""


def find_schema_file(schema_path: str, pipeline_folder: Path, repo: Path) -> Path:
    """The schema file `schema_path` names: beside the pipeline file, else in the repository."""
    if Path(schema_path).is_absolute():
        raise SchemaFileError(
            f"schema_path '{schema_path}' should be relative: to the pipeline's folder or to the repository"
        )
    for folder in (pipeline_folder, repo):
        candidate = (folder / schema_path).resolve()
        if _is_inside(candidate, folder) and candidate.is_file():
            return candidate
    raise SchemaFileError(
        f"schema_path '{schema_path}': no such file beside the pipeline ({pipeline_folder}) or in the repository"
    )


def load_schema_file(path: Path, shown_as: str) -> Any:
    """The parsed schema; SchemaFileError when it cannot be read or is not JSON."""
    try:
        return loads_bounded(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise SchemaFileError(f"schema_path '{shown_as}' cannot be read: {error}") from error
    except ValueError as error:
        raise SchemaFileError(f"schema_path '{shown_as}' is not valid JSON: {error}") from error


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder.resolve())
    except ValueError:
        return False
    return True
