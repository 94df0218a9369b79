"""What one run needs besides its steps: the backend's run environment, the gateway, clone, branch.

`start()` builds it, `stop()` tears it down (each failure reported, the rest still removed). The
sandbox backend is given (the CLI chooses it); nothing here knows whether it is Docker.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from wave_sandbox.engine.early_environment import EarlyEnvironment
from wave_sandbox.engine.output_folder import OutputFolder
from wave_sandbox.engine.records import RunRecord
from wave_sandbox.engine.step_execution import StepContext
from wave_sandbox.errors import SandboxError, WaveSandboxError
from wave_sandbox.gateway.budgets import Budget
from wave_sandbox.gateway.prices import PriceTable
from wave_sandbox.gateway.server import Gateway
from wave_sandbox.sandbox.backend import RunEnvironment, SandboxBackend, SandboxHandle, this_process_owner
from wave_sandbox.workspace.acting_files import ActingFile
from wave_sandbox.workspace.branch import RunBranch
from wave_sandbox.workspace.branch_reset import reset_run_branch
from wave_sandbox.workspace.clone import Clone, create_clone, remove_clone_in_background
from wave_sandbox.workspace.commit_message import CommitDetails
from wave_sandbox.workspace.repository import uncommitted_changes

logger = logging.getLogger(__name__)

UNPRIVILEGED_CONTAINER_USER = (10001, 10001)
RUN_MAX_REQUESTS = 2000
RUN_MAX_TOKENS = 20_000_000
STEP_TOKENS = 4_000_000

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResumedBranch:
    """Where a resumed run's branch stands: new commits go on top of `tip`."""

    start: str
    tip: str
    commits: list[str]


@dataclass
class BranchReport:
    name: str | None = None
    commits: list[str] = field(default_factory=list)
    files_changed: int | None = None
    acting_files: list[ActingFile] = field(default_factory=list)


def container_user_ids() -> tuple[int, int]:
    """The invoking user's ids, or a fixed unprivileged uid when invoked as root."""
    if os.getuid() == 0:
        return UNPRIVILEGED_CONTAINER_USER
    return os.getuid(), os.getgid()


@dataclass
class ModelSetup:
    """The chosen upstream and how it names models."""

    upstream: Any
    description: str
    default_model: str
    is_explicit: bool

    @property
    def is_mock(self) -> bool:
        """`--model mock`: the engine plans each step's stub artifacts and marks the run as mock."""
        return bool(getattr(self.upstream, "is_mock", False))


class RunInfrastructure:
    def __init__(
        self,
        run_id: str,
        repo: Path,
        backend: SandboxBackend,
        image: str,
        model: ModelSetup,
        output: OutputFolder,
        needs_clone: bool,
        resumed_branch: "ResumedBranch | None" = None,
        early_environment: EarlyEnvironment | None = None,
    ):
        self.run_id = run_id
        self.repo = repo
        self.backend = backend
        self.image = image
        self.model = model
        self.output = output
        self.needs_clone = needs_clone
        self.resumed_branch = resumed_branch
        self.early_environment = early_environment
        """The run's environment when its making started before the run (launch does, while it checks)."""
        self.environment: RunEnvironment | None = None
        self.gateway: Gateway | None = None
        self.clone: Clone | None = None
        self.run_branch: RunBranch | None = None
        self.step_tokens = STEP_TOKENS
        """Each step's token budget; `start` takes the settings' value."""
        self._containers: dict[str, SandboxHandle] = {}
        self._stopping = False
        self._lock = threading.Lock()

    model_description = property(lambda self: self.model.description)
    default_model = property(lambda self: self.model.default_model)
    model_is_explicit = property(lambda self: self.model.is_explicit)

    def start(
        self, record: RunRecord, plan, notify: Callable[[str], None], transcript_caps_mb: tuple[int, int] | None = None,
        max_cost_usd: float | None = None, prices: PriceTable | None = None,
        token_budgets: tuple[int, int] | None = None,
    ) -> None:
        self.step_tokens, run_tokens = token_budgets or (STEP_TOKENS, RUN_MAX_TOKENS)
        self.output.prepare(record, notify)
        if self.early_environment is not None:
            self.environment = self.early_environment.result()
        else:
            self.environment = self.backend.prepare_run(self.run_id, this_process_owner())
        socket = self.environment.gateway_socket
        self.gateway = Gateway(
            self.model.upstream,
            bind_host=None if socket else self.environment.gateway_host,
            run_budget=Budget(max_requests=RUN_MAX_REQUESTS, max_tokens=run_tokens, max_cost_usd=max_cost_usd),
            **_transcript_caps(transcript_caps_mb),
            prices=prices,
            unix_socket=socket,
            socket_owner=container_user_ids() if socket else None,
        )
        self.gateway.start()
        if not socket:  # a socket is reached through the folder agent steps get, nothing to open
            self.backend.open_gateway(self.environment, self.gateway.port)
        if self.needs_clone:
            self._prepare_clone(record, notify)

    def _prepare_clone(self, record: RunRecord, notify: Callable[[str], None]) -> None:
        resumed = self.resumed_branch
        set_aside_leftover_clone(record.folder / "clone")
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="uncommitted-changes") as pool:
            # `git status` reads the user's tree (1.5 s on 100k files) while the clone is checked out
            changes = pool.submit(uncommitted_changes, self.repo)
            self.clone = create_clone(
                self.repo, record.folder / "clone", owner=container_user_ids(), base=resumed.tip if resumed else None
            )
            uncommitted = len(changes.result())
            if uncommitted:
                notify(
                    f"notice: the working tree has {uncommitted} uncommitted change(s); the read-write "
                    "clone holds the last commit (HEAD) without them, and your tree is left alone"
                )
        self.run_branch = RunBranch(self.repo, self.clone, record.data["pipeline"], self.run_id,
                                    mock=self.model.is_mock)
        if resumed:
            reset_run_branch(self.repo, self.run_branch.name, resumed.commits[-1] if resumed.commits else None)
            self.run_branch.start = resumed.start
            self.run_branch.commits = list(resumed.commits)
            if resumed.commits:
                self.run_branch.summarise()
        else:
            record.update(base_commit=self.clone.base_commit)

    def step_context(self, record: RunRecord, options) -> StepContext:
        uid, gid = container_user_ids()
        return StepContext(
            run_id=self.run_id,
            record=record,
            sandbox=self.backend,
            gateway=self.gateway,
            image=self.image,
            network=self.environment.network,
            user=f"{uid}:{gid}",
            output=self.output,
            keep=options.keep,
            runtime=options.runtime,
            on_container=self._remember_container,
        )

    def step_budget(self, persona) -> Budget:
        return Budget(max_requests=persona.max_turns + 5, max_tokens=self.step_tokens)

    def _remember_container(self, step_id: str, handle: SandboxHandle) -> None:
        with self._lock:
            self._containers[step_id] = handle
            stopping = self._stopping
        if stopping:  # Ctrl-C came while this container was being created: it must not start its step
            self.backend.destroy(handle)
            raise SandboxError(f"the run is stopping; step {step_id} does not start")

    def commit_step_changes(self, step_id: str, persona: str, summary: str, notify,
                            details: CommitDetails | None = None) -> list[str]:
        """Commit what a read-write step changed in the clone to the run branch; return refusals."""
        result = self.run_branch.commit_step(step_id, persona, summary, details)
        if result.sha is None:
            notify(f"notice: step {step_id} changed nothing in the repository; no commit")
        refusals = [f"not committed: {refusal}" for refusal in result.refusals]
        return refusals

    def branch_report(self) -> BranchReport:
        branch = self.run_branch
        if branch is None or not branch.commits:
            return BranchReport()
        return BranchReport(branch.name, list(branch.commits), branch.files_changed, list(branch.acting_files))

    def kill_running_containers(self) -> None:
        with self._lock:
            self._stopping = True  # a container created from now on is removed as soon as it exists
            handles = list(self._containers.values())
        for handle in handles:  # what fails here, the run's teardown removes
            try:
                self.backend.destroy(handle)
            except (WaveSandboxError, OSError) as error:
                logger.warning("killing step %s: %s", handle.step_id, error)

    def stop(self, keep: bool) -> list[str]:
        problems: list[str] = []
        self.output.release()
        if self.gateway is not None:
            _attempt(problems, "stopping the gateway", self.gateway.stop)
        if self.environment is not None:
            problems.extend(self.backend.teardown_run(self.environment, keep=keep))
        elif self.early_environment is not None:  # stopped before start took it (Ctrl-C while it was made)
            problems.extend(self.early_environment.discard())
        if not keep:
            if self.clone is not None:
                _attempt(problems, "removing the clone", lambda: remove_clone_in_background(self.clone))
        return problems


def set_aside_leftover_clone(path: Path) -> None:
    """A clone that a killed run left: never reused, since the interrupted step's half-made edits are
    in it (and it was the agent's to write); the resumed run clones the branch's recorded tip anew."""
    if os.path.lexists(path):
        remove_clone_in_background(Clone(path, ""))


def _attempt(problems: list[str], what: str, action: Callable[[], Any]) -> None:
    try:
        action()
    except Exception as error:
        problems.append(f"{what}: {error}")


def _transcript_caps(caps_mb: tuple[int, int] | None) -> dict[str, int]:
    if caps_mb is None:
        return {}
    step_mb, run_mb = caps_mb
    return {"max_step_transcript_bytes": step_mb * 1024 * 1024, "max_run_transcript_bytes": run_mb * 1024 * 1024}
