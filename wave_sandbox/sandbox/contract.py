"""The sandbox contract: what the runner asks of a step's container, whatever runs it.

Two implementations hold to it, checked by one conformance suite
(``tests/integration/sandbox/test_sandbox_conformance.py``): ``DockerSandbox`` (the real one) and
``FakeSandbox`` (host temp dirs and subprocesses, for unit tests of the runner; no isolation).

The arrangement inside a Docker sandbox (the runner and the agent rely on it):

- PID 1 is the image's init (tini) running one lifetime process (``lifeline.py``): the container
  stops by itself when the step's wall clock is over, or within a second of the process that made
  it ending (its stdin closes), whatever the runner does.
- ``/workspace`` is the working directory, on a per-step size-capped volume owned by ``spec.user``;
  ``workspace_dirs`` exist before ``create`` returns.
- Bind mounts at their targets, read-only ones enforced by the kernel (EROFS).
- Each masked path is hidden: a directory under an empty read-only tmpfs, a file under an empty
  read-only file. Each replaced file is shown read-only with the spec's content instead of its own.
  Masked and replaced paths must lie under a bind mount target; those missing on the host are
  skipped (nothing to hide).
- Read-only root filesystem; ``/tmp`` (mode 1777) and ``/home/wave`` (HOME, owned by the user) are
  size-capped tmpfs. All capabilities dropped, no-new-privileges, memory = memory+swap, CPU and pids
  limits, the run's internal network or none.
- Environment: exactly ``spec.environment`` plus ``HOME=/home/wave`` (unless given) and what the
  image sets (``PATH``) and Docker adds (``HOSTNAME``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Protocol, runtime_checkable

from wave_sandbox.bind_mount import BindMount  # the one mount value, shared with spec and workspace

WORKSPACE_DIR = "/workspace"
HOME_DIR = "/home/wave"


@dataclass(frozen=True)
class ContainerSpec:
    """Everything one step's container is made from."""

    run_id: str
    step_id: str
    image: str
    network: str | None
    """Name of the run's internal network; None means no network at all."""
    user: str
    """"uid:gid" the container and every exec run as."""
    environment: dict[str, str]
    mounts: list[BindMount] = field(default_factory=list)
    workspace_mb: int = 256
    workspace_dirs: list[str] = field(default_factory=list)
    """Folders relative to /workspace that exist (owned by ``user``) when create returns."""
    cpus: float = 1.0
    memory_mb: int = 1024
    pids: int = 256
    lifetime_s: int = 900
    """The container stops by itself after this many seconds."""
    masked_paths: list[str] = field(default_factory=list)
    """Container paths under a bind mount target whose content is hidden (shown empty)."""
    replaced_files: dict[str, bytes] = field(default_factory=dict)
    """Container paths of files under a bind mount target shown read-only with this content instead
    (a git config without its credentials)."""
    tmp_mb: int = 64
    """Size cap of the /tmp tmpfs."""
    home_mb: int = 64
    """Size cap of the /home/wave tmpfs."""
    runtime: str | None = None
    """The engine runtime ("runc", "runsc"); None means the engine's default."""

    @property
    def uid_gid(self) -> tuple[int, int]:
        """``user`` as numbers; a ValueError when it is not "uid:gid"."""
        uid_text, _, gid_text = self.user.partition(":")
        return int(uid_text), int(gid_text or uid_text)


@dataclass(frozen=True)
class SandboxHandle:
    """What ``create`` returns; pass it to every other call."""

    run_id: str
    step_id: str
    container_id: str
    container_name: str
    volume_name: str | None
    spec: ContainerSpec


@dataclass(frozen=True)
class ExecResult:
    """The outcome of one command; ``timed_out`` means it was killed (and the sandbox with it)."""

    exit_code: int
    stdout: bytes
    stderr: bytes
    timed_out: bool
    duration_s: float


@dataclass(frozen=True)
class CollectedFile:
    """One requested file: its content, or why it was not taken (``refusal``, one phrase).

    Exactly one of ``content`` and ``refusal`` is set. ``missing`` tells an absent file from a
    hostile one (both have a refusal).
    """

    path: str
    content: bytes | None
    refusal: str | None
    missing: bool = False


@runtime_checkable
class Sandbox(Protocol):
    """A place to run one step: create, exec, copy in, collect, destroy."""

    def create(self, spec: ContainerSpec) -> SandboxHandle:
        """Make and start the sandbox, idle under its init, with ``workspace_dirs`` in place.

        Raises:
            SandboxError: the sandbox could not be made; nothing of it is left behind.
        """
        ...

    def exec(self, handle: SandboxHandle, argv: list[str], timeout_s: float) -> ExecResult:
        """Run ``argv`` as ``spec.user`` in /workspace and wait for it.

        Past ``timeout_s`` the sandbox is killed (an exec cannot be killed on its own), the
        result has ``timed_out=True``, and later calls raise SandboxError.

        Raises:
            SandboxError: the sandbox is not running or the engine failed.
        """
        ...

    def copy_in(self, handle: SandboxHandle, directory: str, files: dict[str, bytes]) -> None:
        """Write ``files`` (relative names) under ``directory`` (/workspace or below), owned by the user.

        Raises:
            SandboxError: the engine refused; ValueError for a name or directory out of bounds.
        """
        ...

    def collect(self, handle: SandboxHandle, paths: list[str], max_bytes: int) -> list[CollectedFile]:
        """Stop every process left in the sandbox but its init, then read files relative to /workspace, as data.

        Nothing the step started runs any more when the files are read (a later ``exec`` may start
        new commands). Files are read as ``spec.user`` sees them (masks included), never through a
        link. Refuses (and still returns every other file): names that are absolute, hold ``..`` or
        control characters; symbolic links (also in a parent folder), hard links, FIFOs, devices,
        directories; files over ``max_bytes``. One CollectedFile per path, in order.

        Raises:
            SandboxError: the sandbox is not running or the engine failed.
        """
        ...

    def freeze(self, handle: SandboxHandle) -> None:
        """Stop every process of the sandbox where it stands (none can run or write) until ``thaw``.

        Raises:
            SandboxError: the sandbox is gone or the engine refused.
        """
        ...

    def thaw(self, handle: SandboxHandle) -> None:
        """Let the processes of a frozen sandbox go on; silent when it is not frozen or gone."""
        ...

    def destroy(self, handle: SandboxHandle) -> None:
        """Remove the sandbox and its workspace; idempotent, silent when already gone.

        Raises:
            SandboxError: the engine failed to remove something that still exists.
        """
        ...


def workspace_relative_parts(path: str) -> tuple[str, ...]:
    """Components of a path relative to /workspace; ValueError for absolute paths, ``..`` or empty."""
    if not path or path.startswith("/") or "\x00" in path:
        raise ValueError(f"'{path}' must be a non-empty path relative to {WORKSPACE_DIR}")
    parts = tuple(part for part in PurePosixPath(path).parts if part != ".")
    if not parts or ".." in parts:
        raise ValueError(f"'{path}' must stay inside {WORKSPACE_DIR} (no '..')")
    return parts


def directory_under_workspace(directory: str) -> tuple[str, ...]:
    """Components below /workspace of ``directory`` (absolute under /workspace, or relative)."""
    if directory.rstrip("/") == WORKSPACE_DIR or directory in ("", "."):
        return ()
    if directory.startswith(WORKSPACE_DIR + "/"):
        directory = directory[len(WORKSPACE_DIR) + 1 :]
    return workspace_relative_parts(directory)
