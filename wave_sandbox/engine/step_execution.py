"""Run one step end to end: step file, gateway token, container, agent, artifacts, teardown.

The container is created, used and destroyed inside one try/finally, so it goes away even when the
agent fails, the step times out or Ctrl-C lands (the first cleanup net; the run's registry is the second).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from wave_sandbox.engine.artifacts import DeclaredArtifact, OutputFolder, artifact_problem, write_private_file
from wave_sandbox.engine.records import RunRecord
from wave_sandbox.engine.step_prompt import InjectedArtifact
from wave_sandbox.text_safety import one_printable_line
from wave_sandbox.workspace.mounts import StepMount

AGENT_COMMAND = ["python3", "-m", "wave_sandbox.agent", "/wave/step.json"]
CONTAINER_HOME = "/home/wave"
CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ARTIFACT_MAX_BYTES = 10 * 1024 * 1024
AGENT_TIMEOUT_EXIT = 4


@dataclass
class StepJob:
    """Everything that differs between steps, decided before the container exists."""

    step_id: str
    persona: str
    step_description: dict[str, Any]
    timeout_s: int
    mounts: list[StepMount]
    masked_paths: list[str]
    injected: list[tuple[InjectedArtifact, Path]]
    outputs: list[DeclaredArtifact]
    limits: dict[str, Any]
    budget: Any = None


@dataclass
class StepContext:
    """What the run shares with all its steps."""

    run_id: str
    record: RunRecord
    sandbox: Any
    gateway: Any
    image: str
    network: str | None
    user: str
    output: OutputFolder
    keep: bool = False
    on_container: Callable[[str, Any], None] = lambda step_id, handle: None


@dataclass
class StepOutcome:
    succeeded: bool
    message: str
    duration_ms: int
    tokens_in: int = 0
    tokens_out: int = 0
    artifacts: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)


def execute_step(context: StepContext, job: StepJob) -> StepOutcome:
    started = time.monotonic()
    folder = context.record.step_folder(job.step_id)
    step_file = folder / "step.json"
    step_file.write_text(json.dumps(job.step_description, indent=2, ensure_ascii=False))
    token = context.gateway.register_step(
        job.step_id, folder / "transcript.jsonl", job.budget, model=job.step_description["model"]
    )
    try:
        agent_result, collected = _run_in_container(context, job, step_file, token)
    finally:
        context.gateway.revoke_step(job.step_id)
    usage = context.gateway.usage(job.step_id)
    outcome = _judge(context, job, agent_result, collected, context.gateway.step_failure(job.step_id))
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    outcome.tokens_in, outcome.tokens_out = usage.input_tokens, usage.output_tokens
    return outcome


@dataclass
class AgentResult:
    exit_code: int
    timed_out: bool
    report: dict[str, Any]
    log_tail: str


def _run_in_container(context: StepContext, job: StepJob, step_file: Path, token: str):
    from wave_sandbox.sandbox.contract import BindMount, ContainerSpec

    mounts = [BindMount(m.source, m.target, m.read_only) for m in job.mounts]
    mounts += [BindMount(host, item.container_path, True) for item, host in job.injected]
    mounts.append(BindMount(step_file, "/wave/step.json", True))
    spec = ContainerSpec(
        run_id=context.run_id,
        step_id=job.step_id,
        image=context.image,
        network=context.network,
        user=context.user,
        environment={
            "ANTHROPIC_BASE_URL": context.gateway.base_url,
            "ANTHROPIC_API_KEY": token,
            "HOME": CONTAINER_HOME,
            "PATH": CONTAINER_PATH,
        },
        mounts=mounts,
        workspace_dirs=sorted({str(Path(a.path).parent) for a in job.outputs} - {"."}),
        lifetime_s=job.timeout_s + 30,
        masked_paths=job.masked_paths,
        **job.limits,
    )
    handle = context.sandbox.create(spec)
    context.on_container(job.step_id, handle)
    try:
        result = context.sandbox.exec(handle, AGENT_COMMAND, timeout_s=job.timeout_s)
        agent_result = _read_agent_result(context.record.step_folder(job.step_id), result)
        collected = [] if result.timed_out else context.sandbox.collect(
            handle, [a.path for a in job.outputs], ARTIFACT_MAX_BYTES
        )
    finally:
        if not context.keep:
            context.sandbox.destroy(handle)
    return agent_result, collected


def _read_agent_result(folder: Path, result) -> AgentResult:
    (folder / "agent.log").write_bytes(result.stderr)
    report: dict[str, Any] = {}
    lines = result.stdout.decode("utf-8", "replace").strip().splitlines()
    if lines:
        try:
            report = json.loads(lines[-1])
        except ValueError:
            report = {}
    tail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
    return AgentResult(result.exit_code, result.timed_out, report, " | ".join(tail))


def _judge(context, job: StepJob, agent: AgentResult, collected, gateway_failure: str | None) -> StepOutcome:
    delivered, problems, refusals = _deliver_artifacts(context, job, collected)
    outcome = StepOutcome(False, "", 0, artifacts=delivered, refusals=refusals)
    if agent.timed_out or agent.exit_code == AGENT_TIMEOUT_EXIT:
        outcome.message = f"timed out after {job.timeout_s}s; raise timeout_minutes or --step-timeout"
    elif gateway_failure:
        outcome.message = gateway_failure
    elif agent.exit_code != 0:
        reason = agent.report.get("error") or f"agent exited with status {agent.exit_code}: {agent.log_tail}"
        outcome.message = one_printable_line(str(reason), 300)
    elif problems:
        outcome.message = "; ".join(problems)
    else:
        outcome.succeeded = True
        outcome.message = one_printable_line(str(agent.report.get("summary") or ""), empty="Step complete")
    return outcome


def _deliver_artifacts(context: StepContext, job: StepJob, collected):
    """Keep every valid artifact (also of a failing step).

    Returns the displayed paths, the problems that fail the step, and the refusals to warn about
    (an `--output` file that git tracks is left alone; the run record still has the artifact).
    """
    by_path = {item.path: item for item in collected}
    delivered, problems, refusals = [], [], []
    record_folder = context.record.artifacts_folder(job.step_id)
    for declared in job.outputs:
        item = by_path.get(declared.path)
        problem = _collection_problem(declared, item)
        if problem:
            problems.append(problem)
            continue
        write_private_file(record_folder, declared.file_name, item.content)
        shown, refusal = context.output.deliver(declared.file_name, item.content)
        if refusal:
            refusals.append(refusal)
        else:
            delivered.append(shown)
    return delivered, problems, refusals


def _collection_problem(declared: DeclaredArtifact, item) -> str | None:
    if item is None or item.missing or (item.content is None and item.refusal is None):
        return f"artifact '{declared.name}' was not written to /workspace/{declared.path}"
    if item.refusal:
        return f"artifact '{declared.name}' refused: {item.refusal}"
    return artifact_problem(declared, item.content)
