"""Run one step end to end: step file, gateway token, container, agent, artifacts, teardown.

The container is created, used and destroyed inside one try/finally, so it goes away even when the
agent fails, the step times out or Ctrl-C lands (the first cleanup net; the run's registry is the second).

When the agent finishes but an artifact is missing, invalid or refused, or breaks one of the step's
contracts, the agent gets one more go in the same, still-running container (Wave's retry context): the
step file is rewritten in place with the prompt plus the exact errors, and the agent is started again
within what is left of the step's time. Its files from the first attempt are still in /workspace.
Whatever is still wrong after that fails the attempt. A step with Wave's `retry:` policy takes fresh
containers instead (step_attempts); this module runs one attempt, `contract_assessment` judges it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from wave_sandbox.bind_mount import BindMount, MountRole
from wave_sandbox.contracts import ContractCheck
from wave_sandbox.contracts.json_depth import loads_bounded
from wave_sandbox.engine.artifacts import DeclaredArtifact, write_private_file
from wave_sandbox.engine.gateway_reach import gateway_reach
from wave_sandbox.engine.contract_assessment import (
    EVENT_OF_RESULT, ArtifactAssessment, ContractResult, ContractRunner, assess_artifacts, check_content_only,
)
from wave_sandbox.engine.output_folder import OutputFolder
from wave_sandbox.engine.clone_watchdog import CloneCeiling, watch_clone
from wave_sandbox.engine.llm_judge import judge_account
from wave_sandbox.engine.records import RunRecord
from wave_sandbox.engine.retry_policy import RetryPolicy
from wave_sandbox.engine.step_description import StepDescription
from wave_sandbox.engine.step_prompt import InjectedArtifact, build_retry_prompt
from wave_sandbox.errors import SandboxError
from wave_sandbox.sandbox.backend import CollectedFile, ContainerSpec, ExecResult, Sandbox, SandboxHandle
from wave_sandbox.spec.personas import PersonaLimits
from wave_sandbox.text_safety import one_printable_line

if TYPE_CHECKING:  # the gateway is the run's, handed in; only its type is needed here
    from wave_sandbox.gateway.budgets import Budget
    from wave_sandbox.gateway.server import Gateway

AGENT_COMMAND = ["python3", "-m", "wave_sandbox.agent", "/wave/step.json"]
CONTAINER_HOME = "/home/wave"
CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ARTIFACT_MAX_BYTES = 10 * 1024 * 1024
AGENT_TIMEOUT_EXIT = 4
MINIMUM_RETRY_S = 20
"""A retry needs at least this much of the step's time left to be worth starting."""
RETRY_LOG_SEPARATOR = b"\n----- retry with the errors of the first attempt -----\n"

FINAL_TEXT_MAX_CHARS = 16_000


@dataclass
class StepJob:
    """Everything that differs between steps, decided before the container exists."""

    step_id: str
    persona: str
    step_description: StepDescription
    timeout_s: int
    mounts: list[BindMount]
    masked_paths: list[str]
    injected: list[tuple[InjectedArtifact, Path]]
    outputs: list[DeclaredArtifact]
    limits: PersonaLimits
    budget: Budget | None = None
    contracts: list[ContractCheck] = field(default_factory=list)
    redacted_files: dict[str, bytes] = field(default_factory=dict)
    """Container paths of git files holding credentials -> the copy without them shown instead."""
    clone_ceiling: CloneCeiling | None = None
    """Set for a step that writes to the read-write clone: its disk ceiling, watched while it runs."""
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    """The step's `retry:` policy: how many fresh containers it may take, and what follows their failure."""
    same_container_retry: bool = True
    """A step without `retry:` gives the agent its errors once in the same container (DESIGN.md)."""
    contract_runner: ContractRunner = check_content_only
    """Checks one contract; the runner's reaches checker containers, the gateway and the run's events."""
    attempt: int = 1
    """Which attempt of the step this job is (1 for the first)."""
    workspace_files: dict[str, Path] = field(default_factory=dict)
    """Wave's artifact locations: path relative to /workspace -> host file copied there before the step starts."""
    command_argv: list[str] | None = None
    """A Wave command step's command (`bash -c SCRIPT`); None for an agent step."""
    command_environment: dict[str, str] = field(default_factory=dict)
    """A command step's WAVE_DEPS_DIR and WAVE_DEP_* variables."""
    warnings: list[str] = field(default_factory=list)
    """What preparing the step refused (subset_from entries), warned about when the step ends."""


@dataclass
class StepContext:
    """What the run shares with all its steps."""

    run_id: str
    record: RunRecord
    sandbox: Sandbox
    gateway: Gateway
    image: str
    network: str | None
    user: str
    output: OutputFolder
    keep: bool = False
    runtime: str | None = None
    on_container: Callable[[str, SandboxHandle], None] = lambda step_id, handle: None
    on_event: Callable[[str, str], None] = lambda state, message: None
    """Report a step event (state, message) as it happens: retries, contract results."""
    stopping: threading.Event = field(default_factory=threading.Event)
    """Set when the run is interrupted: no further attempt starts, a backoff wait ends at once."""


@dataclass
class StepOutcome:
    succeeded: bool
    message: str
    duration_ms: int
    tokens_in: int = 0
    tokens_out: int = 0
    artifacts: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    retried: bool = False
    final_text: str = ""
    """The agent's final answer (hostile text: sanitized wherever it is shown), kept for
    the later steps of a Wave thread and the review commit's body."""
    cost_usd: float = 0.0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    contract_results: list[ContractResult] = field(default_factory=list)
    rejected: bool = False
    """A `rejected` contract fired: the run stops without failing."""
    rework_step: str | None = None
    """A broken `rework` contract names the step to run on the same clone."""
    rework_rounds: int = 1
    """How often that rework step may run (Wave's max_retries of the contract)."""
    final: bool = False
    """No fresh attempt can help (on_failure halt, a budget or cap the gateway enforced, a stopped clone)."""


def execute_attempt(context: StepContext, job: StepJob) -> StepOutcome:
    """One attempt of the step in its own, fresh container (step_attempts runs the step's attempts)."""
    started = time.monotonic()
    folder = context.record.step_folder(job.step_id)
    step_file = folder / "step.json"
    write_step_file(step_file, job.step_description)
    token = context.gateway.register_step(
        job.step_id, folder / "transcript.jsonl", job.budget,
        model=job.step_description.model, max_tokens=job.step_description.max_tokens,
        tools=job.step_description.tools,
    )  # fmt: skip
    try:
        attempt = _run_in_container(context, job, step_file, token, started)
    finally:
        context.gateway.revoke_step(job.step_id)
    usage = context.gateway.usage(job.step_id) + context.gateway.usage(judge_account(job.step_id))
    outcome = _judge(context, job, attempt, context.gateway.step_failure(job.step_id))
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    outcome.tokens_in, outcome.tokens_out = usage.input_tokens, usage.output_tokens
    outcome.cost_usd = usage.cost_usd
    outcome.cache_read_tokens = usage.cache_read_input_tokens
    outcome.cache_write_tokens = usage.cache_creation_input_tokens
    return outcome


def write_step_file(step_file: Path, description: StepDescription) -> None:
    """Write step.json in place: it is bind-mounted as a file, so replacing it (a new inode) would
    leave the container looking at the old content."""
    with open(step_file, "w", encoding="utf-8") as stream:
        stream.write(description.to_json())


@dataclass
class AgentResult:
    exit_code: int
    timed_out: bool
    report: dict[str, Any]
    log_tail: str

    @property
    def finished(self) -> bool:
        """The agent ended its conversation normally (its artifacts are worth judging)."""
        return self.exit_code == 0 and not self.timed_out


@dataclass
class Attempt:
    """The agent's last run in the container, what it left behind, and what its retry was told."""

    agent: AgentResult
    collected: list[CollectedFile]
    retry_errors: list[str] = field(default_factory=list)
    stopped: str | None = None
    """Why the runner stopped the step before the agent ended (the clone's disk ceiling)."""
    assessment: ArtifactAssessment | None = None
    """The last agent run's artifacts and contracts, judged once (a test_suite runs a container)."""
    earlier_results: list[ContractResult] = field(default_factory=list)
    """Contract results of the agent run that the same-container retry corrected."""


def _run_in_container(context: StepContext, job: StepJob, step_file: Path, token: str, started: float) -> Attempt:
    handle = context.sandbox.create(_container_spec(context, job, step_file, token))
    context.on_container(job.step_id, handle)
    watchdog = None
    try:
        copy_workspace_files(context.sandbox, handle, job.workspace_files)
        watchdog = watch_clone(context.sandbox, handle, job.clone_ceiling)
        attempt = _run_attempts(context, job, handle, step_file, started, watchdog)
    finally:
        if not context.keep:
            context.sandbox.destroy(handle)
        if watchdog:  # after the removal: nothing writes any more, and the last measurement is final
            watchdog.finish()
            context.record.update_step(job.step_id, clone_watch=watchdog.report.as_record())
    attempt.stopped = watchdog.tripped if watchdog else None
    return attempt


def copy_workspace_files(sandbox: Sandbox, handle: SandboxHandle, files: dict[str, Path]) -> None:
    """Copy host files (the run record's artifacts) into /workspace before the step starts."""
    if files:
        sandbox.copy_in(handle, "/workspace", {relative: host.read_bytes() for relative, host in files.items()})


def _run_attempts(context: StepContext, job: StepJob, handle, step_file: Path, started: float, watchdog) -> Attempt:
    if watchdog and watchdog.tripped:  # the clone was over its ceiling before the agent started
        return Attempt(AgentResult(-1, False, {}, ""), [])
    agent, collected = _run_agent(context, job, handle, job.timeout_s, watchdog=watchdog)
    first = _assessed(context, job, agent, collected)
    errors = _errors_worth_a_retry(context, job, agent, first)
    remaining_s = int(job.timeout_s - (time.monotonic() - started))
    if not errors or remaining_s < MINIMUM_RETRY_S or (watchdog and watchdog.tripped):
        return Attempt(agent, collected, assessment=first)
    _report_results(context, first)
    _prepare_retry(context, job, step_file, errors, remaining_s)
    agent, collected = _run_agent(context, job, handle, remaining_s, retry=True, watchdog=watchdog)
    return Attempt(agent, collected, errors, assessment=_assessed(context, job, agent, collected),
                   earlier_results=first.results)


def _assessed(context: StepContext, job: StepJob, agent: AgentResult, collected: list[CollectedFile]) -> ArtifactAssessment:
    """Judge an agent run once; contracts that run code or ask a model only when the agent finished."""
    finished = agent.finished and not context.gateway.step_failure(job.step_id)
    return assess_artifacts(job, collected, job.contract_runner if finished else check_content_only)


def _report_results(context: StepContext, assessment: ArtifactAssessment) -> None:
    for result in assessment.results:
        context.on_event(EVENT_OF_RESULT[result.result], result.message())


def _run_agent(
    context: StepContext, job: StepJob, handle: SandboxHandle, timeout_s: float, retry: bool = False, watchdog=None
) -> tuple[AgentResult, list[CollectedFile]]:
    """Start the agent, wait for it, and collect the declared artifacts from the running container."""
    agent = AgentResult(-1, False, {}, "")
    try:
        result = context.sandbox.exec(handle, AGENT_COMMAND, timeout_s=timeout_s)
        separator = RETRY_LOG_SEPARATOR if retry else (attempt_log_separator(job.attempt) if job.attempt > 1 else None)
        agent = _read_agent_result(context.record.step_folder(job.step_id), result, separator)
        if result.timed_out or (watchdog and watchdog.tripped) or not _collection_needed(context, job):
            return agent, []
        return agent, context.sandbox.collect(handle, [a.path for a in job.outputs], ARTIFACT_MAX_BYTES)
    except SandboxError:
        if watchdog and watchdog.tripped:  # the watchdog removed the container under the agent
            return agent, []
        raise


def _collection_needed(context: StepContext, job: StepJob) -> bool:
    """Whether the reader must run: it reads the declared artifacts after stopping whatever the agent left
    running, so that nothing changes what is judged (artifacts, contracts on the repository) or what a
    kept container holds. A step with neither artifacts nor contracts, whose container is removed right
    away (removal stops everything), has nothing to read or protect: one exec (~80 ms) less."""
    return bool(job.outputs or job.contracts or context.keep)


def _errors_worth_a_retry(
    context: StepContext, job: StepJob, agent: AgentResult, assessment: ArtifactAssessment
) -> list[str]:
    """The errors to send back to the agent in the same container, or [] when that cannot help or is not wanted."""
    if not agent.finished or context.gateway.step_failure(job.step_id):
        return []
    if assessment.halt or assessment.rejected or not assessment.same_container_retry:
        return []
    return assessment.problems


def _prepare_retry(context: StepContext, job: StepJob, step_file: Path, errors: list[str], remaining_s: int) -> None:
    """Keep what the first attempt was told, then tell the agent what to fix (and its time left)."""
    folder = context.record.step_folder(job.step_id)
    write_step_file(folder / "step.attempt-1.json", job.step_description)
    retry_prompt = build_retry_prompt(job.step_description.prompt, errors)
    write_step_file(step_file, job.step_description.for_retry(retry_prompt, remaining_s))
    context.record.update_step(job.step_id, retry_errors=errors)


def _container_spec(context: StepContext, job: StepJob, step_file: Path, token: str) -> ContainerSpec:
    mounts = list(job.mounts)
    mounts += [BindMount(host, item.container_path, True, MountRole.STEP_INPUT) for item, host in job.injected]
    mounts.append(BindMount(step_file, "/wave/step.json", True, MountRole.STEP_INPUT))
    reach = gateway_reach(context.gateway, token)
    return ContainerSpec(
        run_id=context.run_id,
        step_id=job.step_id,
        image=context.image,
        network=context.network,
        user=context.user,
        environment={**reach.environment, "HOME": CONTAINER_HOME, "PATH": CONTAINER_PATH},
        mounts=mounts + reach.mounts,
        workspace_dirs=sorted({str(Path(a.path).parent) for a in job.outputs} - {"."}),
        lifetime_s=job.timeout_s + 30,
        masked_paths=job.masked_paths,
        replaced_files=job.redacted_files,
        runtime=context.runtime,
        cpus=job.limits.cpus,
        memory_mb=job.limits.memory_mb,
        pids=job.limits.pids,
        workspace_mb=job.limits.workspace_mb,
    )


def attempt_log_separator(attempt: int) -> bytes:
    return f"\n----- attempt {attempt}: a fresh container -----\n".encode()


def _read_agent_result(folder: Path, result: ExecResult, separator: bytes | None = None) -> AgentResult:
    if separator is not None:
        with open(folder / "agent.log", "ab") as log:
            log.write(separator + result.stderr)
    else:
        (folder / "agent.log").write_bytes(result.stderr)
    report: dict[str, Any] = {}
    lines = result.stdout.decode("utf-8", "replace").strip().splitlines()
    if lines:
        try:  # the agent's stdout is the step's to write to: bounded depth, a mapping or nothing
            parsed = loads_bounded(lines[-1])
        except ValueError:
            parsed = {}
        report = parsed if isinstance(parsed, dict) else {}
    tail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
    return AgentResult(result.exit_code, result.timed_out, report, " | ".join(tail))


def _judge(context: StepContext, job: StepJob, attempt: Attempt, gateway_failure: str | None) -> StepOutcome:
    agent = attempt.agent
    assessment = attempt.assessment or assess_artifacts(job, attempt.collected)
    _report_results(context, assessment)
    delivered, refusals = _deliver_artifacts(context, job, assessment)
    outcome = StepOutcome(False, "", 0, artifacts=delivered, refusals=refusals + assessment.warnings,
                          retried=bool(attempt.retry_errors),
                          contract_results=attempt.earlier_results + assessment.results,
                          rework_step=assessment.rework_step, rework_rounds=assessment.rework_rounds,
                          final=bool(attempt.stopped or gateway_failure or assessment.halt))
    if attempt.stopped:
        outcome.message = attempt.stopped
    elif agent.timed_out or agent.exit_code == AGENT_TIMEOUT_EXIT:
        outcome.message = f"timed out after {job.timeout_s}s; raise timeout_minutes or --step-timeout"
    elif gateway_failure:
        outcome.message = gateway_failure
    elif agent.exit_code != 0:
        reason = agent.report.get("error") or f"agent exited with status {agent.exit_code}: {agent.log_tail}"
        outcome.message = one_printable_line(str(reason), 300)
    elif assessment.rejected:
        outcome.rejected, outcome.final = True, True
        outcome.message = one_printable_line(assessment.rejected, 300)
    elif assessment.problems:
        retried = " (after one retry with the errors)" if attempt.retry_errors else ""
        outcome.message = "; ".join(assessment.problems) + retried
    else:
        outcome.succeeded = True
        outcome.message = one_printable_line(str(agent.report.get("summary") or ""), empty="Step complete")
        outcome.final_text = str(agent.report.get("final_text") or "")[:FINAL_TEXT_MAX_CHARS]
    return outcome


def _deliver_artifacts(
    context: StepContext, job: StepJob, assessment: ArtifactAssessment
) -> tuple[list[str], list[str]]:
    """Keep every valid artifact (also of a failing step).

    An artifact that breaks a contract is kept in the run record (to see what was wrong) but not
    delivered to `--output`. Returns the displayed paths and the refusals to warn about (an
    `--output` file that git tracks is left alone; the run record still has the artifact).
    """
    delivered: list[str] = []
    refusals: list[str] = []
    record_folder = context.record.artifacts_folder(job.step_id)
    for declared in job.outputs:
        content = assessment.contents.get(declared.path)
        if content is None:
            continue
        write_private_file(record_folder, declared.file_name, content)
        if declared.path in assessment.contract_failures:
            continue
        shown, refusal = context.output.deliver(declared.file_name, content)
        if refusal:
            refusals.append(refusal)
        else:
            delivered.append(shown)
    return delivered, refusals
