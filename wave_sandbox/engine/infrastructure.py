"""What one run needs besides its steps: network, firewall, gateway, clone, registry, branch.

`start()` builds it, `stop()` tears it down (each failure reported, the rest still removed).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from wave_sandbox.engine.artifacts import OutputFolder
from wave_sandbox.engine.records import RunRecord
from wave_sandbox.engine.step_execution import StepContext
from wave_sandbox.workspace.acting_files import ActingFile
from wave_sandbox.workspace.branch import RunBranch
from wave_sandbox.workspace.clone import Clone, create_clone, remove_clone_in_background
from wave_sandbox.workspace.repository import uncommitted_changes

UNPRIVILEGED_CONTAINER_USER = (10001, 10001)
RUN_MAX_REQUESTS = 2000
RUN_MAX_TOKENS = 20_000_000
STEP_TOKENS = 4_000_000


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


class RunInfrastructure:
    def __init__(
        self,
        run_id: str,
        repo: Path,
        client: Any,
        image: str,
        model: ModelSetup,
        output: OutputFolder,
        needs_clone: bool,
        resumed_branch: "ResumedBranch | None" = None,
        firewall_available: bool = True,
    ):
        from wave_sandbox.sandbox.cleanup import ResourceRegistry
        from wave_sandbox.sandbox.docker_sandbox import DockerSandbox

        self.run_id = run_id
        self.repo = repo
        self.client = client
        self.image = image
        self.model = model
        self.output = output
        self.needs_clone = needs_clone
        self.resumed_branch = resumed_branch
        self.firewall_available = firewall_available
        self.registry = ResourceRegistry(client)
        self.sandbox = DockerSandbox(client, self.registry)
        self.network = None
        self.gateway = None
        self.firewall = None
        self.clone: Clone | None = None
        self.run_branch: RunBranch | None = None
        self._containers: dict[str, Any] = {}
        self._lock = threading.Lock()

    model_description = property(lambda self: self.model.description)
    default_model = property(lambda self: self.model.default_model)
    model_is_explicit = property(lambda self: self.model.is_explicit)

    def start(self, record: RunRecord, plan, notify: Callable[[str], None]) -> None:
        from wave_sandbox.gateway.budgets import Budget
        from wave_sandbox.gateway.server import Gateway
        from wave_sandbox.sandbox.networks import create_run_network

        self.output.prepare()
        self.network = create_run_network(
            self.client, self.run_id, self.registry, firewall_rules=self.firewall_available
        )
        self.gateway = Gateway(
            self.model.upstream,
            bind_host=self.network.gateway_ip,
            run_budget=Budget(max_requests=RUN_MAX_REQUESTS, max_tokens=RUN_MAX_TOKENS),
        )
        self.gateway.start()
        if self.network.firewalled:
            self._close_host_ports()
        if self.needs_clone:
            self._prepare_clone(record, notify)

    def _close_host_ports(self) -> None:
        from wave_sandbox.sandbox import firewall

        port = int(self.gateway.base_url.rsplit(":", 1)[1])
        self.firewall = firewall.restrict_network_to_gateway(self.network, port, self.run_id)

    def _prepare_clone(self, record: RunRecord, notify: Callable[[str], None]) -> None:
        changes = uncommitted_changes(self.repo)
        if changes:
            notify(
                f"notice: the working tree has {len(changes)} uncommitted change(s); the read-write "
                "clone holds the last commit (HEAD) without them, and your tree is left alone"
            )
        resumed = self.resumed_branch
        self.clone = create_clone(
            self.repo, record.folder / "clone", owner=container_user_ids(), base=resumed.tip if resumed else None
        )
        self.run_branch = RunBranch(self.repo, self.clone, record.data["pipeline"], self.run_id)
        if resumed:
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
            sandbox=self.sandbox,
            gateway=self.gateway,
            image=self.image,
            network=self.network.name,
            user=f"{uid}:{gid}",
            output=self.output,
            keep=options.keep,
            on_container=self._remember_container,
        )

    def step_budget(self, persona) -> Any:
        from wave_sandbox.gateway.budgets import Budget

        return Budget(max_requests=persona.max_turns + 5, max_tokens=STEP_TOKENS)

    def _remember_container(self, step_id: str, handle: Any) -> None:
        with self._lock:
            self._containers[step_id] = handle

    def commit_step_changes(self, step_id: str, persona: str, summary: str, notify) -> list[str]:
        """Commit what a read-write step changed in the clone to the run branch; return refusals."""
        result = self.run_branch.commit_step(step_id, persona, summary)
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
            handles = list(self._containers.values())
        for handle in handles:
            try:
                self.sandbox.destroy(handle)
            except Exception:
                pass

    def stop(self, keep: bool) -> list[str]:
        problems: list[str] = []
        if self.gateway is not None:
            _attempt(problems, "stopping the gateway", self.gateway.stop)
        if self.firewall is not None:
            _attempt(problems, "removing firewall rules", self.firewall.remove)
        if not keep:
            problems.extend(self.registry.remove_all() or [])
            if self.clone is not None:
                _attempt(problems, "removing the clone", lambda: remove_clone_in_background(self.clone))
        return problems


def _attempt(problems: list[str], what: str, action: Callable[[], Any]) -> None:
    try:
        action()
    except Exception as error:
        problems.append(f"{what}: {error}")
