"""The Docker sandbox: one hardened container per step, made, used and removed by our own code.

Never ``containers.run(remove=True)``: it leaks the container when start fails or Ctrl-C lands
during its wait (docker-py issue 3284). Each object is registered with the run's ResourceRegistry
the moment it exists, and ``create`` removes what it made when any later part fails.
"""

from __future__ import annotations

import io
import shutil
import tarfile
import tempfile
import time
from pathlib import Path, PurePosixPath

import docker
import docker.errors

from wave_sandbox.errors import ContainerExecError, SandboxError
from wave_sandbox.sandbox.cleanup import ResourceRegistry
from wave_sandbox.sandbox.container_config import (
    MaskPlan,
    create_container_arguments,
    host_config_arguments,
    plan_masks,
)
from wave_sandbox.sandbox.container_exec import exec_in_container
from wave_sandbox.sandbox.contract import (
    WORKSPACE_DIR,
    CollectedFile,
    ContainerSpec,
    ExecResult,
    SandboxHandle,
    directory_under_workspace,
    workspace_relative_parts,
)
from wave_sandbox.sandbox.docker_collect import collect_from_container
from wave_sandbox.sandbox.labels import docker_object_name
from wave_sandbox.sandbox.lifeline import Lifelines
from wave_sandbox.sandbox.removal import remove_container_if_present, remove_volume_if_present
from wave_sandbox.sandbox.volumes import create_workspace_volume

_MKDIR_TIMEOUT_S = 30.0


class DockerSandbox:
    """The sandbox contract (``contract.Sandbox``) on a Docker engine."""

    def __init__(self, client: docker.DockerClient, registry: ResourceRegistry):
        self.client = client
        self.registry = registry
        # The engine mounts a container's binds again whenever it copies files in (copy_in): the empty
        # file over masked files (and the content of replaced ones) must live as long as the container,
        # not just until it starts.
        self._mask_folders: dict[str, Path] = {}
        # Each container's stdin, held by this process alone: the container stops when it ends (lifeline.py).
        self.lifelines = Lifelines(client)

    def create(self, spec: ContainerSpec) -> SandboxHandle:
        """Create the volume and the container, start it, make ``workspace_dirs``; undo all on failure."""
        workspace_dirs = [workspace_relative_parts(folder) for folder in spec.workspace_dirs]
        masks = plan_masks(spec)
        name = docker_object_name("step", spec.run_id, spec.step_id)
        volume_name = create_workspace_volume(self.client, spec, self.registry)
        try:
            empty_file, replacements = self._files_for_masks(name, masks)
            container_id = self._create_container(spec, name, volume_name, masks, empty_file, replacements)
            handle = SandboxHandle(spec.run_id, spec.step_id, container_id, name, volume_name, spec)
            self.lifelines.attach(container_id)
            self._start(handle)
            self._make_workspace_dirs(handle, workspace_dirs)
        except BaseException:
            # By name: a Ctrl-C during the create call can leave a container whose id we never saw.
            self._remove_quietly(name, volume_name)
            raise
        return handle

    def exec(self, handle: SandboxHandle, argv: list[str], timeout_s: float) -> ExecResult:
        """Run ``argv`` as the spec's user in /workspace; past ``timeout_s`` the container is killed."""
        return exec_in_container(self.client, handle.container_id, argv, handle.spec.user, timeout_s)

    def copy_in(self, handle: SandboxHandle, directory: str, files: dict[str, bytes]) -> None:
        """Write ``files`` under ``directory`` (in /workspace), parents created, owned by the user."""
        uid, gid = handle.spec.uid_gid
        archive = _archive_of(directory_under_workspace(directory), files, uid, gid)
        try:
            # A stopped container's tmpfs workspace is gone: the engine would write into a fresh, lost one.
            if not self.client.api.inspect_container(handle.container_id)["State"]["Running"]:
                raise SandboxError(
                    f"the container of step {handle.step_id} is not running; cannot copy files in"
                )
            self.client.api.put_archive(handle.container_id, WORKSPACE_DIR, archive)
        except docker.errors.APIError as exc:
            raise SandboxError(
                f"could not copy files into {directory} of step {handle.step_id}: {exc.explanation or exc}"
            ) from exc

    def collect(self, handle: SandboxHandle, paths: list[str], max_bytes: int) -> list[CollectedFile]:
        """Stop the step's leftover processes, then read files relative to /workspace from inside the
        container, never following a link; hostile ones are refused."""
        return collect_from_container(self.client, handle.container_id, handle.spec.user, paths, max_bytes)

    def freeze(self, handle: SandboxHandle) -> None:
        """Pause the container (the cgroup freezer): its processes stop where they stand."""
        try:
            self.client.api.pause(handle.container_id)
        except docker.errors.APIError as exc:
            raise SandboxError(
                f"could not freeze the container of step {handle.step_id}: {exc.explanation or exc}"
            ) from exc

    def thaw(self, handle: SandboxHandle) -> None:
        """Unpause the container; silent when it is not paused or gone."""
        try:
            self.client.api.unpause(handle.container_id)
        except docker.errors.APIError as exc:
            # Gone (404), or not paused: 409, or a 500 saying so on Docker 20.10.
            not_paused = "is not paused" in str(exc) or "is not running" in str(exc)
            if exc.status_code not in (404, 409) and not not_paused:
                raise SandboxError(
                    f"could not thaw the container of step {handle.step_id}: {exc.explanation or exc}"
                ) from exc

    def destroy(self, handle: SandboxHandle) -> None:
        """Force-remove the container, then its volume; silent when they are already gone."""
        remove_container_if_present(self.client, handle.container_id)
        self.registry.forget_container(handle.container_id)
        self.lifelines.cut(handle.container_id)
        if handle.volume_name:
            remove_volume_if_present(self.client, handle.volume_name)
            self.registry.forget_volume(handle.volume_name)
        self._remove_mask_folder(handle.container_name)

    def _files_for_masks(self, container_name: str, masks: MaskPlan) -> tuple[Path | None, dict[str, Path]]:
        """Read-only host files to mount: an empty one over masked files, one per replaced file with
        its content ({container path: host file}); kept until the container is destroyed."""
        if not masks.files and not masks.replaced:
            return None, {}
        folder = Path(tempfile.mkdtemp(prefix="wave-sandbox-mask-"))
        self._mask_folders[container_name] = folder
        folder.chmod(0o755)
        empty_file = _read_only_file(folder / "masked", b"")
        replacements = {
            path: _read_only_file(folder / f"replaced-{number}", content)
            for number, (path, content) in enumerate(sorted(masks.replaced.items()))
        }
        return empty_file, replacements

    def _remove_mask_folder(self, container_name: str) -> None:
        folder = self._mask_folders.pop(container_name, None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

    def _create_container(
        self,
        spec: ContainerSpec,
        name: str,
        volume_name: str,
        masks: MaskPlan,
        empty_file: Path | None,
        replacements: dict[str, Path],
    ) -> str:
        try:
            host_config = self.client.api.create_host_config(
                **host_config_arguments(spec, volume_name, masks, empty_file, replacements)
            )
            container_id = self.client.api.create_container(
                **create_container_arguments(spec, name, host_config)
            )["Id"]
        except docker.errors.ImageNotFound as exc:
            raise SandboxError(f"image {spec.image} is missing; run 'wave-sandbox images build'") from exc
        except docker.errors.APIError as exc:
            raise SandboxError(
                f"could not create the container of step {spec.step_id}: {exc.explanation or exc}"
            ) from exc
        self.registry.add_container(container_id)
        return container_id

    def _start(self, handle: SandboxHandle) -> None:
        try:
            self.client.api.start(handle.container_id)
        except docker.errors.APIError as exc:
            raise SandboxError(
                f"could not start the container of step {handle.step_id}: {exc.explanation or exc}"
            ) from exc

    def _make_workspace_dirs(self, handle: SandboxHandle, workspace_dirs: list[tuple[str, ...]]) -> None:
        if not workspace_dirs:
            return
        argv = ["mkdir", "-p", "--", *(str(PurePosixPath(WORKSPACE_DIR, *parts)) for parts in workspace_dirs)]
        result = self.exec(handle, argv, _MKDIR_TIMEOUT_S)
        if result.exit_code != 0:
            raise ContainerExecError(
                handle.container_name, argv, result.exit_code, result.stderr.decode("utf-8", "replace")
            )

    def _remove_quietly(self, container_name: str, volume_name: str) -> None:
        """Undo a failed create without hiding why it failed; the registry keeps what this misses."""
        try:
            container_id = self.client.api.inspect_container(container_name)["Id"]
            remove_container_if_present(self.client, container_id)
            self.registry.forget_container(container_id)
            self.lifelines.cut(container_id)
        except (docker.errors.NotFound, SandboxError, docker.errors.APIError):
            pass
        try:
            remove_volume_if_present(self.client, volume_name)
            self.registry.forget_volume(volume_name)
        except SandboxError:
            pass
        self._remove_mask_folder(container_name)


def _read_only_file(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    path.chmod(0o444)
    return path


def _archive_of(folder_parts: tuple[str, ...], files: dict[str, bytes], uid: int, gid: int) -> bytes:
    """A tar holding ``files`` under ``folder_parts`` with every parent folder, owned by uid:gid."""
    buffer = io.BytesIO()
    now = time.time()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        folders_added: set[tuple[str, ...]] = set()
        for name, content in files.items():
            parts = folder_parts + workspace_relative_parts(name)
            for depth in range(1, len(parts)):
                if parts[:depth] not in folders_added:
                    folders_added.add(parts[:depth])
                    tar.addfile(_tar_entry("/".join(parts[:depth]), tarfile.DIRTYPE, 0o755, uid, gid, now))
            entry = _tar_entry("/".join(parts), tarfile.REGTYPE, 0o644, uid, gid, now)
            entry.size = len(content)
            tar.addfile(entry, io.BytesIO(content))
    return buffer.getvalue()


def _tar_entry(name: str, kind: bytes, mode: int, uid: int, gid: int, mtime: float) -> tarfile.TarInfo:
    entry = tarfile.TarInfo(name)
    entry.type, entry.mode, entry.uid, entry.gid, entry.mtime = kind, mode, uid, gid, mtime
    return entry
