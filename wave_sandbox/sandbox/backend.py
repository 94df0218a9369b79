"""The sandbox backend interface: everything the engine asks of whatever runs its steps.

The engine receives a ``SandboxBackend`` (chosen by the CLI through ``registry.get_backend``) and
imports nothing else of ``wave_sandbox.sandbox``: no Docker, no firewall, no cleanup module. Two
implementations hold to it, checked by one conformance suite
(``tests/integration/sandbox/test_sandbox_conformance.py``): ``DockerBackend``
(``docker_backend.py``, the real one) and ``FakeBackend`` (``fake.py``: host temp folders and
subprocesses, no isolation, for the engine's unit tests).

Run-level lifecycle, in the order a run uses it::

    capabilities()                      what this backend can give (doctor prints it; run warns once)
    ensure_image(notify) -> image       the agent image, built when missing
    clean_dead_runs()                   what crashed runs left behind (never a live run's objects)
    prepare_run(run_id, owner) -> env   where the run's gateway listens: env.gateway_socket (a Unix socket
                                        whose folder agent steps get, with no network: Docker), else
                                        env.gateway_host on the run's isolated network (then:)
    open_gateway(env, port)             the run's steps may reach exactly that port, nothing else
    create / exec / copy_in / collect / destroy     one step's sandbox (the ``Sandbox`` contract)
    teardown_run(env)                   everything of the run goes, each failure reported

Inspired by inspect_ai's ``SandboxEnvironment`` (task_init / sample_init / sample_cleanup /
task_cleanup / cli_cleanup behind a provider registry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from wave_sandbox.sandbox.contract import (
    BindMount,
    CollectedFile,
    ContainerSpec,
    ExecResult,
    Sandbox,
    SandboxHandle,
)
from wave_sandbox.sandbox.owner import current_owner, owner_is_alive

__all__ = [
    "BackendCapabilities",
    "BindMount",
    "CleanupReport",
    "CollectedFile",
    "ContainerSpec",
    "ExecResult",
    "Notify",
    "RunEnvironment",
    "Sandbox",
    "SandboxBackend",
    "SandboxHandle",
    "owner_process_is_alive",
    "this_process_owner",
]

Notify = Callable[[str], None]


def this_process_owner() -> str:
    """The owner of the runs this process starts (``<host>:<pid>:<start>``): ``clean_dead_runs``
    spares a run while its owner lives."""
    return current_owner()


def owner_process_is_alive(owner: str) -> bool:
    """Whether the process named by an owner value (``<host>:<pid>:<start>``) still runs; a pid
    reused by another process does not count (its start time differs)."""
    return owner_is_alive(owner)


@dataclass(frozen=True)
class BackendCapabilities:
    """What the backend can give on this machine, as ``doctor`` prints it and ``run`` warns about it."""

    engine: str
    """One line naming the engine ("docker 20.10.24", "fake (no isolation)")."""
    runtimes: list[str] = field(default_factory=list)
    """Container runtimes available ("runc", "runsc")."""
    network_isolation: bool = False
    """Whether a run's steps can be shut in so that they reach their gateway and nothing else."""
    reduced_controls: list[str] = field(default_factory=list)
    """One line per control of SECURITY.md this backend cannot give here ("control: why; what is left open")."""
    images_present: bool = False
    """Whether the agent image exists already (else the first run builds it)."""
    image_detail: str = ""
    """One line about the agent image (its name, or how to build it)."""


@dataclass(frozen=True)
class RunEnvironment:
    """What ``prepare_run`` made for one run; pass it to ``open_gateway`` and ``teardown_run``."""

    run_id: str
    owner: str
    gateway_host: str | None
    """The address the host's gateway binds when it listens on TCP: reachable from the run's steps, and
    only from them once ``open_gateway`` has opened its port (None: it listens on ``gateway_socket``)."""
    network: str | None
    """What steps' ``ContainerSpec.network`` names (None: no network at all)."""
    firewalled: bool = False
    """True when the steps reach nothing on the host but the port ``open_gateway`` opens."""
    gateway_socket: str | None = None
    """The host path where the gateway listens on a Unix socket; the engine mounts its folder into agent
    steps (read-only) and ``open_gateway`` is not called. None: TCP on ``gateway_host``."""


@dataclass
class CleanupReport:
    """What ``clean_dead_runs`` removed, spared and failed to remove."""

    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    firewall_rules: int = 0
    gateway_sockets: list[str] = field(default_factory=list)
    """Run ids whose gateway socket folder was removed."""
    spared_runs: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def removed_anything(self) -> bool:
        return bool(self.containers or self.networks or self.volumes or self.firewall_rules or self.gateway_sockets)

    def summary(self) -> str:
        """One line for the user."""
        line = (
            f"removed {len(self.containers)} containers, {len(self.networks)} networks, "
            f"{len(self.volumes)} volumes, {self.firewall_rules} firewall rules"
        )
        if self.gateway_sockets:
            line += f", {len(self.gateway_sockets)} gateway sockets"
        if self.spared_runs:
            line += f"; spared {len(self.spared_runs)} live runs ({', '.join(sorted(self.spared_runs))})"
        if self.failures:
            line += f"; {len(self.failures)} failures"
        return line


@runtime_checkable
class SandboxBackend(Sandbox, Protocol):
    """A sandbox (``create``/``exec``/``copy_in``/``collect``/``destroy``) plus the run-level lifecycle."""

    name: str

    def capabilities(self) -> BackendCapabilities:
        """What this backend can give here; asks the engine (once per backend: the answer is kept), creates nothing.

        Raises:
            DockerUnavailableError: the container engine does not answer (Docker backend).
        """
        ...

    def check_runtime(self, runtime: str | None) -> str | None:
        """The runtime steps will run under: ``runtime``, or None for the engine's default.

        Raises:
            ConfigurationError: ``runtime`` is not one we support, or this engine lacks it (one line
                saying how to get it).
        """
        ...

    def try_runtime(self, runtime: str) -> tuple[bool, str]:
        """Whether a tiny container runs under ``runtime`` here, and one line saying how it went
        (``doctor``'s check; needs the agent image).

        Raises:
            Nothing: a failure is the answer.
        """
        ...

    def ensure_image(self, notify: Notify) -> str:
        """The agent image's name, built first when missing (``notify`` gets one-line progress).

        Raises:
            ImageBuildError: the image could not be made.
            DockerUnavailableError: the container engine does not answer.
        """
        ...

    def prepare_run(self, run_id: str, owner: str) -> RunEnvironment:
        """Make what lets the run's steps reach their gateway and nothing else: the folder of its socket
        (Docker), or an isolated network shut to the host until ``open_gateway``.

        Everything made is registered at once, so ``teardown_run`` (or ``clean_dead_runs`` after a
        crash of ``owner``) removes it.

        Raises:
            SandboxError: it could not be made; nothing of it is left behind.
        """
        ...

    def open_gateway(self, env: RunEnvironment, port: int) -> None:
        """Let the run's steps reach ``env.gateway_host:port`` (TCP), and nothing else on the host; only for
        an environment without ``gateway_socket``.

        Raises:
            SandboxError: the rule could not be added.
        """
        ...

    def teardown_run(self, env: RunEnvironment, keep: bool = False) -> list[str]:
        """Close the gateway's port, then remove every container, volume, network and rule of the run.

        Each failure is logged and returned (one line each); the rest is still removed. With
        ``keep`` (``--keep``), containers and the network stay for debugging, still shut in.
        Deferring Ctrl-C while it works; may be called again.

        Raises:
            Nothing: failures are returned.
        """
        ...

    def clean_dead_runs(self, spared_run_ids: frozenset[str] = frozenset()) -> CleanupReport:
        """Remove what runs whose owner process is gone left behind; a live run's objects are spared,
        and so are those of ``spared_run_ids`` (runs started with ``--keep``, until ``clean``).

        Raises:
            SandboxError: the objects could not be listed (a removal failure is in the report).
        """
        ...
