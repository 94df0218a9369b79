"""What an existing output folder holds: nothing, an earlier run's delivered artifacts, or something else.

A run writes a manifest beside the artifacts it delivers (which run, its record, each file's hash).
A file is an earlier run's artifact when the manifest lists it and it is still what was delivered: the
same bytes as the copy in that run's record (reachable: `artifacts RUN --export DIR` brings it back),
or, when that record is gone, the hash the manifest holds. A folder an older version filled has no
manifest: its files count when a run record of the repository holds the same file with the same bytes.
Anything else (a file no run delivered, a delivered file edited since, a folder, a link) is the user's,
and the folder is refused rather than touched.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from wave_sandbox.workspace.layout import runs_root

MANIFEST_NAME = ".wave-sandbox-output.json"
IGNORE_ALL = "*\n"
SHOWN_NAMES = 3


@dataclass
class EarlierDelivery:
    """The earlier run's files found in an output folder (all of them still as delivered)."""

    run_id: str | None = None
    record_folder: Path | None = None
    files: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    """Files whose record copy is gone (its record was removed): kept in the next run's record instead."""
    foreign: list[str] = field(default_factory=list)
    """Entries no run delivered: the folder is refused."""
    changed: list[str] = field(default_factory=list)
    """Delivered files edited since: the folder is refused."""
    manifest_hashes: dict[str, str] = field(default_factory=dict)


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def read_manifest(folder: Path) -> dict | None:
    """The manifest's data, or None when there is none or it is not one of ours."""
    try:
        data = json.loads((folder / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("run_id"), str) or not isinstance(data.get("files"), dict):
        return None
    return data


def find_earlier_delivery(folder: Path, repo: Path) -> EarlierDelivery:
    """Sort every entry of the existing `folder` (no link followed)."""
    manifest = read_manifest(folder)
    delivery = _from_manifest(manifest, repo) if manifest else EarlierDelivery()
    for entry in sorted(folder.iterdir()):
        if _is_ours(entry, manifest is not None):
            continue
        if entry.is_symlink() or not entry.is_file():
            delivery.foreign.append(entry.name)
        elif manifest is not None:
            _sort_manifest_file(delivery, entry)
        else:
            _sort_unlisted_file(delivery, entry, repo)
    return delivery


def _from_manifest(manifest: dict, repo: Path) -> EarlierDelivery:
    run_id = manifest["run_id"]
    recorded = Path(str(manifest.get("record", "")))
    record_folder = recorded if recorded.is_absolute() and recorded.is_dir() else runs_root(repo) / run_id
    hashes = {str(name): str(value) for name, value in manifest["files"].items()}
    return EarlierDelivery(run_id, record_folder if record_folder.is_dir() else None, manifest_hashes=hashes)


def _is_ours(entry: Path, has_manifest: bool) -> bool:
    if entry.name == MANIFEST_NAME:
        return has_manifest
    return entry.name == ".gitignore" and entry.is_file() and not entry.is_symlink() and _holds(entry, IGNORE_ALL)


def _holds(path: Path, text: str) -> bool:
    try:
        return path.read_bytes() == text.encode()
    except OSError:
        return False


def _sort_manifest_file(delivery: EarlierDelivery, entry: Path) -> None:
    expected = delivery.manifest_hashes.get(entry.name)
    if expected is None:
        delivery.foreign.append(entry.name)
        return
    content = entry.read_bytes()
    copy = record_copy(delivery.record_folder, entry.name) if delivery.record_folder else None
    if copy is not None and copy.read_bytes() == content:
        delivery.files.append(entry.name)
    elif sha256_of(content) == expected:
        delivery.files.append(entry.name)
        delivery.unreachable.append(entry.name)
    else:
        delivery.changed.append(entry.name)


def _sort_unlisted_file(delivery: EarlierDelivery, entry: Path, repo: Path) -> None:
    """A folder written before manifests existed: match the file against the repository's records."""
    content = entry.read_bytes()
    for record_folder in sorted(runs_root(repo).glob("*"), reverse=True):
        copy = record_copy(record_folder, entry.name)
        if copy is not None and copy.read_bytes() == content:
            delivery.files.append(entry.name)
            delivery.run_id = delivery.run_id or record_folder.name
            delivery.record_folder = delivery.record_folder or record_folder
            return
    delivery.foreign.append(entry.name)


def record_copy(record_folder: Path, file_name: str) -> Path | None:
    """The run record's copy of an artifact named `file_name` (steps/<id>/artifacts/<name>), or None."""
    for candidate in sorted((record_folder / "steps").glob(f"*/artifacts/{_glob_literal(file_name)}")):
        if candidate.is_file() and not candidate.is_symlink():
            return candidate
    return None


def refusal_of(delivery: EarlierDelivery, folder_text: str) -> str | None:
    """One line saying why the folder cannot receive a run's artifacts, or None."""
    if delivery.changed:
        who = f"run {delivery.run_id}" if delivery.run_id else "an earlier run"
        return (f"{folder_text}: {_names(delivery.changed)} changed since {who} delivered it; "
                "move it away or pass another folder")
    if delivery.foreign:
        return (f"{folder_text} holds {_names(delivery.foreign)}, which no run delivered there; "
                "pass a new or empty folder (or one holding only an earlier run's artifacts)")
    return None


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN_NAMES])
    return shown + (f" and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else "")


def _glob_literal(name: str) -> str:
    return "".join(f"[{char}]" if char in "*?[" else char for char in name)
