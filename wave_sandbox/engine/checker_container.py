"""Wave's `test_suite` contract: the project's test command, run in a checker container.

The step's result is project code, so the command runs where the agent ran, never on the host: a new
container from the same backend path as a step's (so it inherits every control of the step containers,
PID 1 included), with no network at all, no gateway address and no token in its environment, the
persona's limits, and the step's mounts made read-only (the read-write clone is seen as the step left it,
but cannot be changed by the tests). The command's exit status decides; its output is kept in the run
record as `steps/<id>/contracts/test_suite-<n>.log` and named in the contract's result.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace

from wave_sandbox.bind_mount import BindMount, MountRole
from wave_sandbox.engine.artifacts import write_private_file
from wave_sandbox.engine.retry_policy import parse_duration
from wave_sandbox.errors import SandboxError
from wave_sandbox.sandbox.backend import ContainerSpec
from wave_sandbox.text_safety import one_printable_line

CHECKER_HOME = "/home/wave"
CHECKER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
OUTPUT_TAIL_LINES = 15
DEFAULT_TIMEOUT_S = 300


@dataclass(frozen=True)
class CheckerRun:
    """What the checker container did."""

    exit_code: int
    timed_out: bool
    output: bytes
    log_name: str


def test_suite_command(command: str, args: object) -> str:
    """Wave's `command` plus its `command_args`, each argument quoted."""
    extra = [str(arg) for arg in args] if isinstance(args, list) else []
    return " ".join([command, *map(shlex.quote, extra)]) if extra else command


def checker_mounts(mounts: list[BindMount]) -> list[BindMount]:
    """The step's declared mounts, every one read-only (attachments and step inputs are left out)."""
    return [replace(mount, read_only=True) for mount in mounts if mount.role is MountRole.DECLARED]


def working_folder(mounts: list[BindMount], wanted: object) -> str:
    """Where the command runs: Wave's `dir` when it is `project_root` or a mount target, else the first mount."""
    targets = [mount.target for mount in mounts]
    if isinstance(wanted, str) and wanted in targets:
        return wanted
    return targets[0] if targets else "/workspace"


def run_checker(context, job, command: str, folder: str, timeout_s: int, number: int) -> CheckerRun:
    """Create the checker container, run `command` in `folder`, keep its output, remove the container."""
    mounts = checker_mounts(job.mounts)
    spec = ContainerSpec(
        run_id=context.run_id, step_id=f"{job.step_id}-check{number}", image=context.image, network=None,
        user=context.user, environment={"HOME": CHECKER_HOME, "PATH": CHECKER_PATH},
        mounts=mounts, lifetime_s=timeout_s + 30, masked_paths=job.masked_paths,
        replaced_files=job.redacted_files, runtime=context.runtime, cpus=job.limits.cpus,
        memory_mb=job.limits.memory_mb, pids=job.limits.pids, workspace_mb=job.limits.workspace_mb,
    )
    handle = context.sandbox.create(spec)
    try:
        where = working_folder(mounts, folder)
        script = f"cd {shlex.quote(where)} && {command}"
        result = context.sandbox.exec(handle, ["bash", "-lc", script], timeout_s=timeout_s)
    finally:
        if not context.keep:
            context.sandbox.destroy(handle)
    output = result.stdout + result.stderr
    log_name = f"test_suite-{number}.log"
    folder = context.record.step_folder(job.step_id) / "contracts"
    folder.mkdir(exist_ok=True)
    write_private_file(folder, log_name, output)
    return CheckerRun(result.exit_code, result.timed_out, output, log_name)


def test_suite_errors(run: CheckerRun, command: str, timeout_s: int) -> list[str]:
    """[] when the command passed; else one line naming the command and the tail of its output."""
    if run.timed_out:
        return [f"test command '{command}' did not finish within {timeout_s}s"]
    if run.exit_code == 0:
        return []
    lines = run.output.decode("utf-8", "replace").strip().splitlines()[-OUTPUT_TAIL_LINES:]
    tail = one_printable_line(" | ".join(lines), 1500)
    return [f"test command '{command}' exited with status {run.exit_code}: {tail}"]


def check_test_suite(context, job, contract, number: int) -> tuple[list[str], str]:
    """Run a test_suite contract: its errors and a note naming where its output is kept."""
    command = contract.setting("command")
    if not isinstance(command, str) or not command.strip():
        return ["test_suite needs a command"], ""
    command = test_suite_command(command, contract.setting("command_args"))
    timeout_s = int(parse_duration(contract.setting("timeout"), min(job.timeout_s, DEFAULT_TIMEOUT_S)))
    try:
        run = run_checker(context, job, command, contract.setting("dir"), timeout_s, number)
    except SandboxError as error:
        return [f"the checker container failed: {error}"], ""
    note = f"output kept in steps/{job.step_id}/contracts/{run.log_name}"
    return test_suite_errors(run, command, timeout_s), note

