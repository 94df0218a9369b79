"""Collecting artifacts from a running container, hostile ones refused, the others still taken.

One exec, as the step's user, of ``artifact_reader.py`` (standard library, ``python3 -I``): it first
stops every process the step left running but the container's init and lifetime process (a paused
container refuses exec, so it is done from inside, by killing), then walks each path from /workspace
one ``O_NOFOLLOW`` open at a time and streams the file's bytes out. With nothing of the agent left
running, nothing can swap a file between the check and the read; from inside, the read sees what the
agent sees: the masks, and no file its user may not read. The engine's archive API is not used: it
resolves paths as root in a view of the container without its tmpfs masks.

The host applies the refusal rules (``collection``) to what the reader reports; its output is data.
"""

from __future__ import annotations

import functools
from pathlib import Path

import docker

from wave_sandbox.errors import SandboxError
from wave_sandbox.sandbox import collection
from wave_sandbox.sandbox.container_exec import exec_in_container
from wave_sandbox.sandbox.contract import WORKSPACE_DIR, CollectedFile

_COLLECT_TIMEOUT_S = 60.0
# Room for one header line per artifact, beside its content.
_HEADER_BYTES = 128


@functools.cache
def reader_source() -> str:
    """The in-container reader's source, for ``python3 -I -c`` (no path, site or variable of the agent's)."""
    return Path(__file__).with_name("artifact_reader.py").read_text(encoding="utf-8")


def reader_command(paths: list[str], max_bytes: int) -> list[str]:
    return ["python3", "-I", "-c", reader_source(), "--stop-others", WORKSPACE_DIR, str(max_bytes), *paths]


def collect_from_container(
    client: docker.DockerClient, container_id: str, user: str, paths: list[str], max_bytes: int
) -> list[CollectedFile]:
    """One CollectedFile per path (relative to /workspace), in order; the step's processes are stopped first."""
    results: dict[int, CollectedFile] = {}
    to_read: list[tuple[int, str]] = []
    for index, path in enumerate(paths):
        reason = collection.refusal_for_name(path)
        if reason is not None:
            results[index] = collection.refused(path, reason)
        else:
            to_read.append((index, path))
    output = _run_reader(client, container_id, user, [path for _, path in to_read], max_bytes)
    for (index, path), (header, content) in zip(to_read, _frames(output, len(to_read)), strict=True):
        results[index] = _collected_file(path, header, content, max_bytes)
    return [results[index] for index in range(len(paths))]


def _run_reader(client, container_id: str, user: str, paths: list[str], max_bytes: int) -> bytes:
    """The reader's stdout; it runs even with no path to read, to stop the step's processes."""
    output_cap = len(paths) * (max_bytes + _HEADER_BYTES) + _HEADER_BYTES
    argv = reader_command(paths, max_bytes)
    result = exec_in_container(
        client, container_id, argv, user, _COLLECT_TIMEOUT_S, workdir="/", max_output_bytes=output_cap
    )
    if result.timed_out or result.exit_code != 0:
        detail = "timed out" if result.timed_out else result.stderr.decode("utf-8", "replace").strip()[-300:]
        raise SandboxError(
            f"could not collect artifacts from container {container_id[:12]} "
            f"(exit {result.exit_code}: {detail or 'no message'})"
        )
    return result.stdout


def _frames(output: bytes, count: int) -> list[tuple[str, bytes]]:
    """(header, content) per path, from the reader's stream; SandboxError when it is malformed."""
    frames, offset = [], 0
    for _ in range(count):
        end = output.find(b"\n", offset)
        if end < 0:
            raise SandboxError("the artifact reader's output ended early")
        header = output[offset:end].decode("utf-8", "replace")
        offset = end + 1
        length = int(header.split()[1]) if header.startswith("data ") else 0
        if offset + length > len(output):
            raise SandboxError("the artifact reader's output ended inside a file")
        frames.append((header, output[offset : offset + length]))
        offset += length
    if offset != len(output):
        raise SandboxError("the artifact reader wrote more than it was asked for")
    return frames


def _collected_file(path: str, header: str, content: bytes, max_bytes: int) -> CollectedFile:
    kind, _, rest = header.partition(" ")
    if kind == "data":
        if len(content) > max_bytes:
            return collection.refused(path, collection.oversize_refusal(len(content), max_bytes))
        return collection.collected(path, content)
    if kind == "missing":
        return collection.missing(path)
    if kind == "parentlink":
        return collection.refused(path, collection.REFUSED_PARENT_LINK)
    if kind == "stat":
        mode, link_count, size = (int(field) for field in rest.split())
        reason = collection.refusal_for_stat(mode, link_count, size, max_bytes)
        return collection.refused(path, reason or collection.REFUSED_CHANGED)
    return collection.refused(path, f"could not be read ({rest or header})")
