"""What happens to an artifact once it is out of the container: validation, and private writes.

The `--output` folder that receives each artifact under its file name is `output_folder.OutputFolder`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from wave_sandbox.contracts.json_depth import loads_bounded


@dataclass(frozen=True)
class DeclaredArtifact:
    name: str
    path: str
    type: str | None = None

    @property
    def file_name(self) -> str:
        return PurePosixPath(self.path).name


def artifact_problem(declared: DeclaredArtifact, content: bytes) -> str | None:
    """Why `content` is not a valid artifact of its declared type, or None."""
    if declared.type == "json":
        try:
            loads_bounded(content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            return f"artifact '{declared.name}' ({declared.path}) is not valid JSON: {error}"
    return None


def write_private_file(folder: Path, file_name: str, content: bytes) -> Path:
    """Write into a folder we own, never following a link already sitting at the target."""
    target = folder / file_name
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    if target.is_symlink():
        target.unlink()
    descriptor = os.open(target, flags, 0o644)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(content)
    return target
