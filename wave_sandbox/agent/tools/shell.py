"""The bash tool: one `/bin/bash -lc COMMAND` per call, in its own process group, with a timeout."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import threading

from wave_sandbox.agent.tools.output import OutputCapture, ToolContext, ToolFailure, ToolResult, describe_os_error

# After the command ends, a process that escaped the group (setsid) may still hold the pipe open;
# its output is not worth waiting long for.
PIPE_DRAIN_GRACE_S = 1.0
READ_CHUNK_BYTES = 65536
# The step token is for the agent's own requests; commands the model runs have no use for it.
# (Not a security boundary: the same uid can read the agent's /proc/PID/environ.)
WITHHELD_ENVIRONMENT_PREFIX = "ANTHROPIC_"


def run_bash(arguments: dict, context: ToolContext) -> ToolResult:
    """Run the command; report its exit code and combined stdout/stderr, or the timeout that killed it."""
    timeout_s = choose_bash_timeout(arguments.get("timeout_s"), context)
    process = start_bash(arguments["command"], context.workdir)
    capture = OutputCapture(context.output_limit)
    stop_reading = threading.Event()
    reader = threading.Thread(target=drain_pipe, args=(process.stdout.fileno(), capture, stop_reading), daemon=True)
    reader.start()
    try:
        finished = wait_without_reaping(process.pid, timeout_s)
    finally:
        # Killing the group also ends background jobs the command left behind: nothing outlives a call.
        kill_process_group(process.pid)
        process.wait()
        reader.join(PIPE_DRAIN_GRACE_S)
        stop_reading.set()
        reader.join()
        process.stdout.close()
    return describe_bash_outcome(process.returncode, finished, timeout_s, capture.render())


def choose_bash_timeout(requested: float | None, context: ToolContext) -> float:
    """The model's timeout_s, else the step's default; never past the step's own deadline."""
    timeout_s = float(requested) if requested else float(context.bash_timeout_s)
    seconds_left = context.seconds_left()
    if seconds_left is not None:
        if seconds_left <= 0:
            raise ToolFailure("the step's time is up; the command was not run")
        timeout_s = min(timeout_s, seconds_left)
    return timeout_s


def start_bash(command: str, workdir: str) -> subprocess.Popen:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(WITHHELD_ENVIRONMENT_PREFIX)}
    try:
        return subprocess.Popen(
            ["/bin/bash", "-lc", command], cwd=workdir, env=environment, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
    except OSError as exc:
        reason = describe_os_error(exc, exc.filename or workdir)
        raise ToolFailure(f"cannot start /bin/bash in {workdir}: {reason}") from exc


def drain_pipe(fd: int, capture: OutputCapture, stop: threading.Event) -> None:
    """Read until end of file, or until told to stop (a process that escaped the group still writes)."""
    while not stop.is_set():
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            chunk = os.read(fd, READ_CHUNK_BYTES)
            if not chunk:
                return
            capture.append(chunk)


def wait_without_reaping(pid: int, timeout_s: float) -> bool:
    """True when the process exited within the timeout. It stays a zombie, so its group id cannot be reused
    by another process before kill_process_group runs."""
    waiter = threading.Thread(target=wait_for_exit, args=(pid,), daemon=True)
    waiter.start()
    waiter.join(timeout_s)
    return not waiter.is_alive()


def wait_for_exit(pid: int) -> None:
    try:
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    except ChildProcessError:
        pass  # reaped by Popen.wait after a timeout kill: the wait is over either way


def kill_process_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def describe_bash_outcome(returncode: int, finished: bool, timeout_s: float, output: str) -> ToolResult:
    shown = output if output else "(no output)"
    if not finished:
        return ToolResult(f"command timed out after {timeout_s:g} s and was killed with its child processes\n{shown}",
                          is_error=True)
    if returncode < 0:
        return ToolResult(f"command killed by signal {signal_name(-returncode)}\n{shown}", is_error=True)
    # A non-zero exit is an answer (grep found nothing, a test failed), not a broken tool.
    return ToolResult(f"exit code: {returncode}\n{shown}")


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)
