"""The last pass over everything a run wrote: no API key or host secret may stay in a file.

Secrets are the real API key and the value of every host variable named like *KEY*, *TOKEN*,
*SECRET* or *PASSWORD* (values shorter than 8 characters are too common to redact safely). The
replacing itself is the one redactor's (`wave_sandbox.secret_redaction`), the gateway's too.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Mapping

from wave_sandbox.secret_redaction import MIN_SECRET_CHARS, redact_secret_bytes

SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)


def host_secret_values(environ: Mapping[str, str]) -> list[str]:
    """The values of the host variables named like a secret, long enough to redact."""
    values = {value for name, value in environ.items() if SECRET_NAME.search(name) and len(value) >= MIN_SECRET_CHARS}
    return sorted(values)


def redact_file(path: Path, secrets: list[str]) -> bool:
    """Replace every secret in `path` (a regular file, never followed through a link); True if changed."""
    if path.is_symlink() or not path.is_file():
        return False
    content = path.read_bytes()
    redacted = redact_secret_bytes(content, secrets)
    if redacted == content:
        return False
    path.write_bytes(redacted)
    return True


def redact_files(paths: Iterable[Path], secrets: list[str]) -> list[Path]:
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
