"""DockerBackend: the sandbox backend interface (``backend.py``) on a local Docker engine.

It wraps what already does the work: ``DockerSandbox`` (one step's container), ``gateway_socket``
(the folder of the run's gateway socket: steps have no network at all and reach their gateway through
that socket alone), ``cleanup`` (the per-run registry and the sweep after crashes), ``images`` and
``controls``. Each run gets its own ``ResourceRegistry``, so tearing one run down never touches another's
objects.

The Docker client is made on first use: choosing the backend creates nothing and asks nothing, so a
configuration mistake is still reported before Docker is needed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import docker

from wave_sandbox.errors import ConfigurationError, SandboxError
from wave_sandbox.sandbox.backend import (
    BackendCapabilities,
    CleanupReport,
    CollectedFile,
    ContainerSpec,
    ExecResult,
    Notify,
    RunEnvironment,
    SandboxHandle,
)
from wave_sandbox.sandbox.cleanup import ResourceRegistry, remove_labelled_resources
from wave_sandbox.sandbox.client import docker_client
from wave_sandbox.sandbox.controls import engine_facts, missing_controls, socket_sharing_unavailable_reason
from wave_sandbox.sandbox.docker_sandbox import DockerSandbox
from wave_sandbox.sandbox.gateway_socket import (
    GatewaySocketFolder,
    make_gateway_socket_folder,
    remove_dead_gateway_socket_folders,
)
from wave_sandbox.sandbox.images import ensure_agent_image, image_status
from wave_sandbox.sandbox.runtimes import chosen_runtime, runtime_probe


@dataclass
class _DockerRun:
    registry: ResourceRegistry
    sandbox: DockerSandbox
    socket_folder: GatewaySocketFolder | None = None


class DockerBackend:
    """The backend interface on Docker (see the module docstring)."""

    name = "docker"

    def __init__(self, client: docker.DockerClient | None = None):
        self._client = client
        self._runs: dict[str, _DockerRun] = {}
        self._lock = threading.Lock()
        self._capabilities: BackendCapabilities | None = None
        self._capabilities_lock = threading.Lock()
        self._client_lock = threading.Lock()
        self._image: str | None = None
        self._runtime_args: dict[str, list[str]] = {}

    @property
    def client(self) -> docker.DockerClient:
        """The engine's client, made on first use (DockerUnavailableError when it does not answer); once,
        whichever thread asks first."""
        with self._client_lock:
            if self._client is None:
                self._client = docker_client()
            return self._client

    def capabilities(self) -> BackendCapabilities:
        """Asked of the daemon once per backend (a process): a run asks when it checks its runtime and
        again when it warns about reduced controls, and each asking is ~60 ms of API calls. Thread-safe:
        ``prepare_run`` may ask from its thread while the run's checks ask too; one of them asks the daemon."""
        with self._capabilities_lock:
            if self._capabilities is None:
                self._capabilities = self._ask_capabilities()
            return self._capabilities

    def _ask_capabilities(self) -> BackendCapabilities:
        facts = engine_facts(self.client)
        self._runtime_args = facts.runtime_args
        images_present, image_detail, self._image = image_status(self.client)
        return BackendCapabilities(
            engine=f"docker {facts.engine_version}",
            runtimes=list(facts.runtimes),
            network_isolation=socket_sharing_unavailable_reason(facts) is None,
            reduced_controls=missing_controls(facts),
            images_present=images_present,
            image_detail=image_detail,
        )

    def check_runtime(self, runtime: str | None) -> str | None:
        if runtime is None:
            return None
        return chosen_runtime(runtime, self.capabilities().runtimes, self._runtime_args)

    def try_runtime(self, runtime: str) -> tuple[bool, str]:
        if runtime not in self.capabilities().runtimes:
            return False, f"the engine has no {runtime} runtime"
        try:
            chosen_runtime(runtime, self.capabilities().runtimes, self._runtime_args)
        except ConfigurationError as refusal:
            return False, str(refusal).removeprefix(f"--runtime {runtime}: ")
        if self._image is None:
            return False, "not tried: build the agent image first"
        return runtime_probe(self.client, self._image, runtime)

    def ensure_image(self, notify: Notify) -> str:
        if self._image is None:  # capabilities() found it present a moment ago: no second lookup
            self._image = ensure_agent_image(self.client, notify)
        return self._image

    def prepare_run(self, run_id: str, owner: str) -> RunEnvironment:
        """No network: the run's steps get Docker's ``none`` and the folder of the gateway's socket."""
        run = self._run(run_id)
        run.socket_folder = make_gateway_socket_folder(run_id, owner)
        return RunEnvironment(
            run_id, owner, gateway_host=None, network=None, gateway_socket=str(run.socket_folder.socket_path)
        )

    def open_gateway(self, env: RunEnvironment, port: int) -> None:
        raise ValueError(f"run {env.run_id}: the Docker backend's gateway listens on a socket, not on a port")

    def teardown_run(self, env: RunEnvironment, keep: bool = False) -> list[str]:
        with self._lock:
            run = self._runs.get(env.run_id)
        if run is None:
            return []
        problems: list[str] = []
        if not keep:  # with --keep the folder stays with the containers that mount it, until `clean`
            problems.extend(run.registry.remove_all() or [])
            run.sandbox.lifelines.cut_all()
            if run.socket_folder is not None:
                _attempt(problems, "removing the gateway socket", run.socket_folder.remove)
            with self._lock:
                self._runs.pop(env.run_id, None)
        return problems

    def clean_dead_runs(self, spared_run_ids: frozenset[str] = frozenset()) -> CleanupReport:
        report = remove_labelled_resources(self.client, spared_run_ids=spared_run_ids)
        report.gateway_sockets, failures = remove_dead_gateway_socket_folders(spared_run_ids)  # by their own owner
        report.failures.extend(failures)
        return report

    def create(self, spec: ContainerSpec) -> SandboxHandle:
        return self._run(spec.run_id).sandbox.create(spec)

    def exec(self, handle: SandboxHandle, argv: list[str], timeout_s: float) -> ExecResult:
        return self._run(handle.run_id).sandbox.exec(handle, argv, timeout_s)

    def copy_in(self, handle: SandboxHandle, directory: str, files: dict[str, bytes]) -> None:
        self._run(handle.run_id).sandbox.copy_in(handle, directory, files)

    def collect(self, handle: SandboxHandle, paths: list[str], max_bytes: int) -> list[CollectedFile]:
        return self._run(handle.run_id).sandbox.collect(handle, paths, max_bytes)

    def freeze(self, handle: SandboxHandle) -> None:
        self._run(handle.run_id).sandbox.freeze(handle)

    def thaw(self, handle: SandboxHandle) -> None:
        self._run(handle.run_id).sandbox.thaw(handle)

    def destroy(self, handle: SandboxHandle) -> None:
        self._run(handle.run_id).sandbox.destroy(handle)

    def _run(self, run_id: str) -> _DockerRun:
        """The run's registry and sandbox, made on first use (a step may be made without prepare_run)."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                registry = ResourceRegistry(self.client)
                run = self._runs[run_id] = _DockerRun(registry, DockerSandbox(self.client, registry))
            return run


def _attempt(problems: list[str], what: str, action) -> None:
    try:
        action()
    except SandboxError as error:  # each teardown failure is reported, the rest still goes
        problems.append(f"{what}: {error}")
