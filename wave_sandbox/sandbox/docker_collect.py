"""Collecting artifacts from a running container, hostile ones refused, the others still taken.

Three checks, each on data the agent controls: (1) one exec of ``stat`` inside the container gives
each file's type, link count and size, and whether a parent folder is a symbolic link (the engine's
archive API would follow it); (2) the engine's own stat of the path when it hands out the archive;
(3) the tar stream itself, parsed in memory (``collection.read_single_file_archive``). Nothing is
extracted to disk here; the runner writes the bytes where it chooses.
"""

from __future__ import annotations

import shlex
from pathlib import PurePosixPath

import docker
import docker.errors

from wave_sandbox.errors import SandboxError
from wave_sandbox.sandbox import collection
from wave_sandbox.sandbox.container_exec import exec_in_container
from wave_sandbox.sandbox.contract import WORKSPACE_DIR, CollectedFile

_STAT_TIMEOUT_S = 30.0
# Tar headers and padding around one file's content; past this much more, the stream is oversize.
_ARCHIVE_OVERHEAD_BYTES = 64 * 1024

# Arguments come in pairs (parent folder, file), both absolute and normalised. The parent must
# resolve to itself (no symbolic link on the way); names hold no newline (refused before).
_STAT_SCRIPT = """
while [ "$#" -gt 1 ]; do
  parent=$1; file=$2; shift 2
  real=$(cd -P -- "$parent" 2>/dev/null && pwd -P) || { echo missing; continue; }
  if [ "$real" != "$parent" ]; then echo parentlink; continue; fi
  python3 -c "$STAT_ONE" "$file" 2>/dev/null || echo missing
done
"""
# os.lstat rather than coreutils' stat: gVisor's statx (Debian 12's runsc) refuses the flags stat(1) passes.
_STAT_ONE = "import os, sys; s = os.lstat(sys.argv[1]); print('ok', s.st_nlink, s.st_size, format(s.st_mode, 'x'))"

# Go's os.FileMode type bits, as the engine reports them in its stat of an archived path.
_GO_MODE_DIR = 1 << 31
_GO_MODE_SYMLINK = 1 << 27
_GO_MODE_SPECIAL = (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19)


def collect_from_container(
    client: docker.DockerClient, container_id: str, user: str, paths: list[str], max_bytes: int
) -> list[CollectedFile]:
    """One CollectedFile per path (relative to /workspace), in order."""
    results: dict[int, CollectedFile] = {}
    to_stat: list[tuple[int, str, str]] = []
    for index, path in enumerate(paths):
        reason = collection.refusal_for_name(path)
        if reason is not None:
            results[index] = collection.refused(path, reason)
        else:
            to_stat.append((index, path, _absolute_in_workspace(path)))
    stat_lines = _stat_in_container(client, container_id, user, [absolute for _, _, absolute in to_stat])
    for (index, path, absolute), stat_line in zip(to_stat, stat_lines, strict=True):
        results[index] = _collect_one(client, container_id, path, absolute, stat_line, max_bytes)
    return [results[index] for index in range(len(paths))]


def _absolute_in_workspace(path: str) -> str:
    parts = [part for part in PurePosixPath(path).parts if part != "."]
    return str(PurePosixPath(WORKSPACE_DIR, *parts))


def _stat_in_container(client, container_id: str, user: str, absolute_paths: list[str]) -> list[str]:
    if not absolute_paths:
        return []
    arguments = [item for path in absolute_paths for item in (str(PurePosixPath(path).parent), path)]
    argv = ["/bin/sh", "-c", f"STAT_ONE={shlex.quote(_STAT_ONE)}; {_STAT_SCRIPT}", "wave-sandbox-collect", *arguments]
    result = exec_in_container(client, container_id, argv, user, _STAT_TIMEOUT_S, workdir="/")
    lines = result.stdout.decode("utf-8", "replace").splitlines()
    if result.timed_out or result.exit_code != 0 or len(lines) != len(absolute_paths):
        detail = "timed out" if result.timed_out else result.stderr.decode("utf-8", "replace").strip()[:200]
        raise SandboxError(
            f"could not inspect artifacts in container {container_id[:12]} "
            f"({shlex.join(argv[:2])} ...: {detail or 'unexpected output'})"
        )
    return lines


def _collect_one(
    client, container_id: str, path: str, absolute: str, stat_line: str, max_bytes: int
) -> CollectedFile:
    if stat_line == "missing":
        return collection.missing(path)
    if stat_line == "parentlink":
        return collection.refused(path, collection.REFUSED_PARENT_LINK)
    _, link_count, size, raw_mode = stat_line.split()
    reason = collection.refusal_for_stat(int(raw_mode, 16), int(link_count), int(size), max_bytes)
    if reason is not None:
        return collection.refused(path, reason)
    return _read_archive(client, container_id, path, absolute, max_bytes)


def _read_archive(client, container_id: str, path: str, absolute: str, max_bytes: int) -> CollectedFile:
    try:
        stream, engine_stat = client.api.get_archive(container_id, absolute)
    except docker.errors.NotFound:
        return collection.missing(path)
    except docker.errors.APIError as exc:
        raise SandboxError(
            f"could not read {path} from container {container_id[:12]}: {exc.explanation or exc}"
        ) from exc
    reason = _refusal_for_engine_stat(engine_stat, max_bytes)
    if reason is not None:
        stream.close()
        return collection.refused(path, reason)
    archive = _read_capped(stream, max_bytes + _ARCHIVE_OVERHEAD_BYTES)
    if archive is None:
        return collection.refused(path, f"is over the limit of {max_bytes} bytes")
    content, reason = collection.read_single_file_archive(archive, PurePosixPath(absolute).name, max_bytes)
    return collection.refused(path, reason) if reason else collection.collected(path, content or b"")


def _refusal_for_engine_stat(engine_stat: dict, max_bytes: int) -> str | None:
    mode = int(engine_stat.get("mode", 0))
    if mode & _GO_MODE_SYMLINK:
        return collection.REFUSED_SYMLINK
    if mode & _GO_MODE_DIR:
        return collection.REFUSED_DIRECTORY
    if mode & _GO_MODE_SPECIAL:
        return collection.REFUSED_SPECIAL
    size = int(engine_stat.get("size", 0))
    return collection.oversize_refusal(size, max_bytes) if size > max_bytes else None


def _read_capped(stream, limit: int) -> bytes | None:
    """The whole stream, or None as soon as it grows past ``limit``."""
    chunks, total = [], 0
    try:
        for chunk in stream:
            total += len(chunk)
            if total > limit:
                return None
            chunks.append(chunk)
    finally:
        stream.close()
    return b"".join(chunks)
