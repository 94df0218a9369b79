"""FakeSandbox: the sandbox contract on the host, with temp folders and subprocesses.

For unit tests of the runner without Docker. It gives NO isolation: commands run as the current
user with the host's PATH, bind mounts are the host folders themselves (read-only is not enforced),
masked paths are not hidden nor replaced files replaced, there are no limits, no network separation
and no lifetime.

What it keeps of the contract: /workspace (the working directory) is a fresh temp folder, with
``workspace_dirs`` made; each argument of an exec'd command that names /workspace, /home/wave or a
mount target (``/workspace/out.txt``, also inside ``sh -c`` text) is rewritten to the host folder;
``python3``/``python`` as the command run this interpreter; the environment is the spec's (container
paths in values rewritten too) with the host's PATH and a temp folder as HOME; a small read-only
file mount (a step file) is shown as a copy with its container paths rewritten the same way; a timeout kills the command's process group and the "container"
(later execs raise SandboxError); collection kills the process groups of its commands first (a
process that left its group survives) and applies the same refusals as the Docker sandbox.

``FakeBackend`` adds the run-level lifecycle of the backend interface: a run's "network" is none
(steps reach the host's loopback, where the gateway binds), ``open_gateway`` only records the port,
``teardown_run`` destroys the run's sandboxes, and ``clean_dead_runs`` removes the folders (under
``base_dir``) of sandboxes whose owner process is gone, as Docker's labels allow.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from wave_sandbox.errors import ConfigurationError, SandboxError
from wave_sandbox.sandbox import collection
from wave_sandbox.sandbox.backend import BackendCapabilities, CleanupReport, Notify, RunEnvironment
from wave_sandbox.sandbox.owner import current_owner, owner_is_alive
from wave_sandbox.sandbox.contract import (
    HOME_DIR,
    WORKSPACE_DIR,
    CollectedFile,
    ContainerSpec,
    ExecResult,
    SandboxHandle,
    directory_under_workspace,
    workspace_relative_parts,
)

_EXIT_CODE_WHEN_KILLED = 137
_ROOT_PREFIX = "wave-sandbox-fake-"
_REWRITTEN_MAX_BYTES = 1024 * 1024
_OWNER_FILE = "owner"
FAKE_IMAGE = "fake-image"
LOOPBACK = "127.0.0.1"


@dataclass
class _FakeContainer:
    root: Path
    path_map: list[tuple[str, Path]]
    environment: dict[str, str]
    running: bool = True
    process_groups: set[int] = field(default_factory=set)

    @property
    def workspace(self) -> Path:
        return self.root / "workspace"


class FakeSandbox:
    """The sandbox contract without Docker (see the module docstring for what it does not do)."""

    def __init__(self, base_dir: Path | None = None, python_executable: str = sys.executable):
        self.base_dir = base_dir
        self.python_executable = python_executable
        self._containers: dict[str, _FakeContainer] = {}

    def create(self, spec: ContainerSpec) -> SandboxHandle:
        """Make the temp workspace and home (and ``workspace_dirs``)."""
        workspace_dirs = [workspace_relative_parts(folder) for folder in spec.workspace_dirs]
        root = Path(tempfile.mkdtemp(prefix=f"{_ROOT_PREFIX}{spec.step_id[:20]}-", dir=self.base_dir))
        for folder in ("workspace", "home", *("workspace/" + "/".join(parts) for parts in workspace_dirs)):
            (root / folder).mkdir(parents=True, exist_ok=True)
        path_map = [(m.target.rstrip("/"), Path(m.source)) for m in spec.mounts]
        path_map += [(WORKSPACE_DIR, root / "workspace"), (HOME_DIR, root / "home")]
        path_map.sort(key=lambda item: len(item[0]), reverse=True)  # longest container path wins
        container_id = f"fake-{uuid.uuid4().hex[:12]}"
        container = _FakeContainer(root, path_map, {})
        self._show_rewritten_copies(container, spec)
        # The spec's HOME and PATH are the container's; here they must be the host's.
        container.environment = {
            **{name: self._rewrite(container, value) for name, value in spec.environment.items()},
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(root / "home"),
        }
        self._containers[container_id] = container
        (root / _OWNER_FILE).write_text(f"{spec.run_id}\n{self._owner_of(spec.run_id)}\n")
        return SandboxHandle(spec.run_id, spec.step_id, container_id, container_id, None, spec)

    def exec(self, handle: SandboxHandle, argv: list[str], timeout_s: float) -> ExecResult:
        """Run ``argv`` (paths rewritten) in the workspace; past ``timeout_s`` kill it and the container."""
        container = self._running(handle)
        command = [self._rewrite(container, argument) for argument in argv]
        if command and command[0] in ("python3", "python"):
            command[0] = self.python_executable
        started = time.monotonic()
        try:
            process = subprocess.Popen(
                command, cwd=container.workspace, env=container.environment, start_new_session=True,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )  # fmt: skip
        except OSError as exc:
            return ExecResult(127, b"", f"{argv[0]}: {exc}\n".encode(), False, time.monotonic() - started)
        container.process_groups.add(process.pid)
        try:
            stdout, stderr = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self._kill(container)
            stdout, stderr = process.communicate()
            return ExecResult(_EXIT_CODE_WHEN_KILLED, stdout, stderr, True, time.monotonic() - started)
        return ExecResult(process.returncode, stdout, stderr, False, time.monotonic() - started)

    def copy_in(self, handle: SandboxHandle, directory: str, files: dict[str, bytes]) -> None:
        """Write ``files`` under ``directory`` of the workspace, parents created."""
        container = self._running(handle)
        folder = container.workspace.joinpath(*directory_under_workspace(directory))
        for name, content in files.items():
            target = folder.joinpath(*workspace_relative_parts(name))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)

    def collect(self, handle: SandboxHandle, paths: list[str], max_bytes: int) -> list[CollectedFile]:
        """Stop what its commands left running, then read files relative to the workspace, with the
        Docker sandbox's refusals."""
        container = self._running(handle)
        self._stop_commands(container)
        return [self._collect_one(container, path, max_bytes) for path in paths]

    def freeze(self, handle: SandboxHandle) -> None:
        """SIGSTOP every process group its commands started."""
        self._signal_all(self._running(handle), signal.SIGSTOP)

    def thaw(self, handle: SandboxHandle) -> None:
        """SIGCONT every process group its commands started; silent when it is gone."""
        container = self._containers.get(handle.container_id)
        if container is not None:
            self._signal_all(container, signal.SIGCONT)

    def destroy(self, handle: SandboxHandle) -> None:
        """Kill what is left of its commands and delete its folders; silent when already gone."""
        container = self._containers.pop(handle.container_id, None)
        if container is not None:
            self._kill(container)
            shutil.rmtree(container.root, ignore_errors=True)

    def _owner_of(self, run_id: str) -> str:
        return current_owner()

    def _show_rewritten_copies(self, container: _FakeContainer, spec: ContainerSpec) -> None:
        """Show each small read-only file mount as a copy with its container paths rewritten (as in
        argv and the environment), so a step file naming /workspace works on the host."""
        copies = container.root / "mounted-files"
        for number, mount in enumerate(spec.mounts):
            source = Path(mount.source)
            if not mount.read_only or not source.is_file() or source.stat().st_size > _REWRITTEN_MAX_BYTES:
                continue
            try:
                text = source.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            copies.mkdir(exist_ok=True)
            copy = copies / f"{number}-{source.name}"
            copy.write_text(self._rewrite(container, text), encoding="utf-8")
            target = mount.target.rstrip("/")
            container.path_map = [(path, copy if path == target else host) for path, host in container.path_map]

    def _running(self, handle: SandboxHandle) -> _FakeContainer:
        container = self._containers.get(handle.container_id)
        if container is None or not container.running:
            raise SandboxError(f"sandbox {handle.container_id} of step {handle.step_id} is not running")
        return container

    def _rewrite(self, container: _FakeContainer, argument: str) -> str:
        for container_path, host_path in container.path_map:
            # A container path starts an argument or follows a space, quote, '=' or ':' and ends a word.
            pattern = r"(?<![\w/.-])" + re.escape(container_path) + r"(?=/|$|[\s'\";:])"
            argument = re.sub(pattern, lambda _match, host=str(host_path): host, argument)
        return argument

    def _kill(self, container: _FakeContainer) -> None:
        container.running = False
        self._stop_commands(container)

    def _stop_commands(self, container: _FakeContainer) -> None:
        """SIGKILL the process group of each command (a process that left its group is not seen)."""
        self._signal_all(container, signal.SIGKILL)
        container.process_groups.clear()  # never signal a group id again: it may be reused

    @staticmethod
    def _signal_all(container: _FakeContainer, number: int) -> None:
        for process_group in container.process_groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process_group, number)

    def _collect_one(self, container: _FakeContainer, path: str, max_bytes: int) -> CollectedFile:
        reason = collection.refusal_for_name(path)
        if reason is not None:
            return collection.refused(path, reason)
        target = container.workspace.joinpath(*workspace_relative_parts(path))
        if _has_link_on_the_way(container.workspace, target):
            return collection.refused(path, collection.REFUSED_PARENT_LINK)
        return _read_regular_file(path, target, max_bytes)


class FakeBackend(FakeSandbox):
    """The backend interface without Docker: FakeSandbox plus a run lifecycle (module docstring)."""

    name = "fake"

    def __init__(self, base_dir: Path | None = None, python_executable: str = sys.executable):
        super().__init__(base_dir, python_executable)
        self.runs: dict[str, RunEnvironment] = {}
        self.gateway_ports: dict[str, int] = {}

    def capabilities(self) -> BackendCapabilities:
        return BackendCapabilities(
            engine="fake (host processes, no isolation)",
            runtimes=[],
            network_isolation=False,
            reduced_controls=["isolation: the fake runs steps as host processes; every control is absent"],
            images_present=True,
            image_detail=f"{FAKE_IMAGE} (the fake needs no image)",
        )

    def check_runtime(self, runtime: str | None) -> str | None:
        if runtime not in (None, "runc"):  # the fake's "runtime" is the host itself
            raise ConfigurationError(f"--runtime {runtime}: the fake backend runs steps as host processes only")
        return None

    def try_runtime(self, runtime: str) -> tuple[bool, str]:
        return False, "the fake backend has no container runtime"

    def ensure_image(self, notify: Notify) -> str:
        return FAKE_IMAGE

    def prepare_run(self, run_id: str, owner: str) -> RunEnvironment:
        env = RunEnvironment(run_id, owner, gateway_host=LOOPBACK, network=None, firewalled=False)
        self.runs[run_id] = env
        return env

    def open_gateway(self, env: RunEnvironment, port: int) -> None:
        if env.run_id not in self.runs:
            raise ValueError(f"run {env.run_id} was not prepared by this backend")
        self.gateway_ports[env.run_id] = port

    def teardown_run(self, env: RunEnvironment, keep: bool = False) -> list[str]:
        self.gateway_ports.pop(env.run_id, None)
        if keep:
            return []
        for container_id, container in list(self._containers.items()):
            if _run_of(container.root) == env.run_id:
                self.destroy(SandboxHandle(env.run_id, "", container_id, container_id, None, None))
        self.runs.pop(env.run_id, None)
        return []

    def clean_dead_runs(self, spared_run_ids: frozenset[str] = frozenset()) -> CleanupReport:
        """Remove the sandbox folders under ``base_dir`` whose owner process is gone."""
        report = CleanupReport()
        base = Path(self.base_dir or tempfile.gettempdir())
        for root in sorted(base.glob(_ROOT_PREFIX + "*")):
            owner_file = root / _OWNER_FILE
            if not owner_file.is_file():
                continue
            run_id, _, owner = owner_file.read_text().partition("\n")
            if run_id in spared_run_ids or owner_is_alive(owner.strip()):
                report.spared_runs += [run_id] if run_id not in report.spared_runs else []
                continue
            shutil.rmtree(root, ignore_errors=True)
            report.containers.append(root.name)
        return report

    def _owner_of(self, run_id: str) -> str:
        env = self.runs.get(run_id)
        return env.owner if env is not None else current_owner()


def _run_of(root: Path) -> str:
    try:
        return (root / _OWNER_FILE).read_text().partition("\n")[0]
    except OSError:
        return ""


def _has_link_on_the_way(workspace: Path, target: Path) -> bool:
    current = workspace
    for part in target.relative_to(workspace).parts[:-1]:
        current = current / part
        if current.is_symlink():
            return True
    return False


def _read_regular_file(path: str, target: Path, max_bytes: int) -> CollectedFile:
    try:
        file_stat = os.lstat(target)
    except (FileNotFoundError, NotADirectoryError):
        return collection.missing(path)
    reason = collection.refusal_for_stat(file_stat.st_mode, file_stat.st_nlink, file_stat.st_size, max_bytes)
    if reason is not None:
        return collection.refused(path, reason)
    # O_NOFOLLOW and a second fstat: the file may have been swapped since the lstat.
    try:
        descriptor = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        return collection.refused(path, f"could not be opened ({exc.strerror})")
    with os.fdopen(descriptor, "rb") as opened:
        opened_stat = os.fstat(opened.fileno())
        if not stat.S_ISREG(opened_stat.st_mode) or opened_stat.st_nlink > 1:
            return collection.refused(path, collection.REFUSED_SPECIAL)
        content = opened.read(max_bytes + 1)
    if len(content) > max_bytes:
        return collection.refused(path, collection.oversize_refusal(len(content), max_bytes))
    return collection.collected(path, content)
