"""Wave's command steps: a shell script run with no model, in its own hardened container.

The container is made through the same backend `create` as an agent step's (same image, mounts,
masks, limits, lifetime), with two differences that only take away: no network at all
(`ContainerSpec.network=None`, and not the gateway's socket that agent steps get) and no gateway
token (no `ANTHROPIC_*` variable). Its environment is HOME, PATH and Wave's WAVE_DEPS_DIR and
WAVE_DEP_<DEP>_<NAME> variables (see `wave_locations`). The script is `script:` (with `type: command`)
or `exec.command` plus `exec.args` (with `exec.type: command`), rendered with the run's template
variables as Wave renders it, and run as `bash -c SCRIPT` in /workspace (Wave runs `sh -c`; its scripts
use `set -o pipefail`, which the image's `sh`, dash, lacks). Its declared artifacts are
collected and checked against its contracts exactly as an agent step's; there is no retry (no agent to
tell). A non-zero exit fails the step with the exit status and the last line of its stderr.
"""

from __future__ import annotations

import time

from wave_sandbox.bind_mount import BindMount, MountRole
from wave_sandbox.engine.step_execution import (
    ARTIFACT_MAX_BYTES, CONTAINER_HOME, CONTAINER_PATH, StepContext, StepJob, StepOutcome, _deliver_artifacts,
    assess_artifacts, copy_workspace_files,
)
from wave_sandbox.sandbox.backend import ContainerSpec, ExecResult
from wave_sandbox.spec.models import Step
from wave_sandbox.spec.personas import Persona, PersonaLimits
from wave_sandbox.text_safety import one_printable_line

__all__ = ["COMMAND_PERSONA", "command_script", "command_container_spec", "execute_command_step"]

COMMAND_PERSONA = Persona(
    name="command", description="a Wave command step (a shell script, no model)", system_prompt="", tools=[],
    model=None, max_tokens=1, max_turns=1, limits=PersonaLimits(), origin="built-in",
)
"""What the run shows and records as the persona of a command step."""
LOG_TAIL_LINES = 3


def command_script(step: Step) -> str:
    """The text `bash -c` runs: `script`, else `exec.command` followed by `exec.args`."""
    if step.script:
        return step.script
    assert step.exec is not None and step.exec.command, "validation requires a script on a command step"
    args = step.exec.args
    if isinstance(args, list):
        args = " ".join(str(arg) for arg in args)
    return f"{step.exec.command} {args}".strip() if args else step.exec.command


def command_container_spec(context: StepContext, job: StepJob) -> ContainerSpec:
    mounts = list(job.mounts)
    mounts += [BindMount(host, item.container_path, True, MountRole.STEP_INPUT) for item, host in job.injected]
    environment = {"HOME": CONTAINER_HOME, "PATH": CONTAINER_PATH, **job.command_environment}
    return ContainerSpec(
        run_id=context.run_id, step_id=job.step_id, image=context.image,
        network=None,  # no network at all, and no gateway socket: only agent steps reach the gateway
        user=context.user, environment=environment, mounts=mounts,
        workspace_dirs=sorted({a.path.rsplit("/", 1)[0] for a in job.outputs if "/" in a.path}),
        lifetime_s=job.timeout_s + 30, masked_paths=job.masked_paths, replaced_files=job.redacted_files,
        runtime=context.runtime, cpus=job.limits.cpus, memory_mb=job.limits.memory_mb, pids=job.limits.pids,
        workspace_mb=job.limits.workspace_mb,
    )


def execute_command_step(context: StepContext, job: StepJob) -> StepOutcome:
    """Create the container, copy in Wave's artifact locations, run the script, collect, judge, remove."""
    started = time.monotonic()
    assert job.command_argv is not None
    handle = context.sandbox.create(command_container_spec(context, job))
    context.on_container(job.step_id, handle)
    try:
        copy_workspace_files(context.sandbox, handle, job.workspace_files)
        result = context.sandbox.exec(handle, job.command_argv, timeout_s=job.timeout_s)
        _write_log(context, job, result)
        collected = [] if result.timed_out else context.sandbox.collect(
            handle, [a.path for a in job.outputs], ARTIFACT_MAX_BYTES)
    finally:
        if not context.keep:
            context.sandbox.destroy(handle)
    outcome = _judge_command(context, job, result, collected)
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    return outcome


def _write_log(context: StepContext, job: StepJob, result: ExecResult) -> None:
    folder = context.record.step_folder(job.step_id)
    (folder / "agent.log").write_bytes(b"----- stdout -----\n" + result.stdout + b"\n----- stderr -----\n" + result.stderr)


def _judge_command(context: StepContext, job: StepJob, result: ExecResult, collected) -> StepOutcome:
    assessment = assess_artifacts(job, collected)
    delivered, refusals = _deliver_artifacts(context, job, assessment)
    outcome = StepOutcome(False, "", 0, artifacts=delivered, refusals=refusals + assessment.warnings)
    if result.timed_out:
        outcome.message = f"timed out after {job.timeout_s}s; raise timeout_minutes or --step-timeout"
    elif result.exit_code != 0:
        tail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-LOG_TAIL_LINES:]
        outcome.message = one_printable_line(f"command exited with status {result.exit_code}: {' | '.join(tail)}", 300)
    elif assessment.problems:
        outcome.message = "; ".join(assessment.problems)
    else:
        outcome.succeeded = True
        last = result.stdout.decode("utf-8", "replace").strip().splitlines()[-1:]
        outcome.message = one_printable_line(last[0] if last else "", 200, empty="Command complete")
    return outcome
