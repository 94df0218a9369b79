"""The last pass over everything a run wrote: no API key or host secret may stay in a file.

Secrets are the real API key and the value of every host variable named like *KEY*, *TOKEN*,
*SECRET* or *PASSWORD* (values shorter than 8 characters are too common to redact safely).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Mapping

SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
MINIMUM_SECRET_LENGTH = 8
REDACTED = b"[REDACTED]"


def host_secret_values(environ: Mapping[str, str]) -> list[bytes]:
    values = {
        value.encode()
        for name, value in environ.items()
        if SECRET_NAME.search(name) and len(value) >= MINIMUM_SECRET_LENGTH
    }
    return sorted(values, key=len, reverse=True)  # longest first, so no secret is half-replaced


def redact_file(path: Path, secrets: list[bytes]) -> bool:
    """Replace every secret in `path` (a regular file, never followed through a link); True if changed."""
    if path.is_symlink() or not path.is_file():
        return False
    content = path.read_bytes()
    redacted = content
    for secret in secrets:
        redacted = redacted.replace(secret, REDACTED)
    if redacted == content:
        return False
    path.write_bytes(redacted)
    return True


def redact_files(paths: Iterable[Path], secrets: list[bytes]) -> list[Path]:
    if not secrets:
        return []
    return [path for path in paths if redact_file(path, secrets)]


def files_under(folder: Path, skipped: frozenset[Path] = frozenset()) -> list[Path]:
    """Every file below `folder`, not descending into the folders of `skipped`."""
    if not folder.is_dir():
        return []
    found = []
    for root, subfolders, names in os.walk(folder, followlinks=False):
        subfolders[:] = [name for name in subfolders if Path(root) / name not in skipped]
        found += [Path(root) / name for name in names]
    return found
