"""Running one command in a running container, with a deadline the host enforces.

Docker 20.10 cannot kill one exec'd process, so past the deadline the whole container is killed:
its init dies, every process in it dies, and the exec stream ends. A command cut short by the
container's own lifetime is reported as timed out too. The stream is read by docker-py
(``exec_start(demux=True)``) on a worker thread while the caller waits with a timeout.

Under gVisor (runsc) a container that dies under the command (the memory limit's OOM kill ends the
whole sandbox) leaves the exec stream open, or ends it with 126, 137 or gVisor's own 128 while Docker
still says running: the wait also watches the container, and a container killed at its memory limit
is reported as such (SandboxError), not as a timeout or the command's failure.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import docker
import docker.errors

from wave_sandbox.errors import SandboxError
from wave_sandbox.sandbox.contract import WORKSPACE_DIR, ExecResult

# After the kill, the stream ends within moments; past this the reader thread is left to finish alone.
_STREAM_END_AFTER_KILL_S = 10.0
_EXIT_CODE_WHEN_KILLED = 137
# 126: the runtime could not start the command at all, as when the container is going away under it.
_EXIT_CODE_WHEN_UNSTARTED = 126
# 128 with this on stderr: gVisor lost the sandbox under the command (it died: the memory limit).
_EXIT_CODE_WHEN_SANDBOX_LOST = 128
_SANDBOX_LOST_MARK = b"containerManager.WaitPID"
# How long a container may still look running after its init was killed (gVisor's teardown under
# load takes seconds); waited for only after one of the exit codes above.
_STATE_LAG_S = 10.0
# A container stopped by the kernel's OOM kill can show OOMKilled a moment after it shows stopped.
_OOM_FLAG_LAG_S = 2.0
_OOM_EVENT_WINDOW_S = 60
# How often the wait looks at the container, and how long a dead container's stream may take to end.
_WATCH_EVERY_S = 1.0
_STREAM_END_AFTER_DEATH_S = 2.0


@dataclass
class _StreamOutcome:
    stdout: bytes = b""
    stderr: bytes = b""
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


def exec_in_container(
    client: docker.DockerClient,
    container_id: str,
    argv: list[str],
    user: str,
    timeout_s: float,
    workdir: str = WORKSPACE_DIR,
    max_output_bytes: int | None = None,
) -> ExecResult:
    """Run ``argv`` as ``user``; past ``timeout_s`` kill the container and report ``timed_out``.

    Stdout keeps ``max_output_bytes`` (default ``MAX_STREAM_BYTES``), stderr ``MAX_STREAM_BYTES``:
    past that, the head and tail of the stream with a marker where the middle was dropped.
    """
    started = time.monotonic()
    exec_id = _create_exec(client, container_id, argv, user, workdir)
    outcome = _start_reading(client, exec_id, max_output_bytes or MAX_STREAM_BYTES)
    timed_out = not _wait_while_running(client, container_id, outcome, started + timeout_s)
    if timed_out:
        kill_container(client, container_id)
        outcome.done.wait(_STREAM_END_AFTER_KILL_S)
    duration = time.monotonic() - started
    if outcome.error is not None and not timed_out:
        raise SandboxError(
            f"running {argv[0]} in container {container_id[:12]} failed: {outcome.error}"
        ) from outcome.error
    exit_code = _exit_code(client, exec_id, timed_out)
    if _container_may_have_died(exit_code, outcome.stderr) and not timed_out:
        # The container's own clock (the lifetime process, PID 1's child) ran out under the command,
        # or (gVisor) the memory limit ended the whole sandbox, maybe before the command could start.
        stopped = _stopped_state(client, container_id)
        _refuse_when_killed_at_memory_limit(stopped, f"while {argv[0]} ran")
        timed_out = stopped is not None
    return ExecResult(exit_code, outcome.stdout, outcome.stderr, timed_out, duration)


def _container_may_have_died(exit_code: int, stderr: bytes) -> bool:
    """Whether the exit code says the container may have died under the command."""
    if exit_code in (_EXIT_CODE_WHEN_KILLED, _EXIT_CODE_WHEN_UNSTARTED):
        return True
    return exit_code == _EXIT_CODE_WHEN_SANDBOX_LOST and _SANDBOX_LOST_MARK in stderr


def _refuse_when_killed_at_memory_limit(state: dict | None, when: str) -> None:
    """SandboxError naming the memory limit when the container's `state` says the kernel killed it there."""
    if state is not None and state.get("OOMKilled"):
        raise SandboxError(f"the step's container was killed at its memory limit {when}")


def _wait_while_running(client: docker.DockerClient, container_id: str, outcome, deadline: float) -> bool:
    """Wait for the stream's end until ``deadline``; False when the time ran out first."""
    while True:
        remaining = deadline - time.monotonic()
        if outcome.done.wait(max(0.0, min(_WATCH_EVERY_S, remaining))):
            return True
        if remaining <= _WATCH_EVERY_S:
            return False
        if _container_state(client, container_id).get("Running") is False:
            outcome.done.wait(_STREAM_END_AFTER_DEATH_S)
            return True


def kill_container(client: docker.DockerClient, container_id: str) -> None:
    """SIGKILL the container's init; silent when it is already stopped or gone."""
    try:
        client.api.kill(container_id, signal="SIGKILL")
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        if exc.status_code != 409:  # 409: not running any more, which is what we wanted
            raise SandboxError(
                f"could not kill container {container_id[:12]}: {exc.explanation or exc}"
            ) from exc


def _stopped_state(client: docker.DockerClient, container_id: str) -> dict | None:
    """The container's state once it stops within moments (its state lags behind the exec's end), else None."""
    deadline = time.monotonic() + _STATE_LAG_S
    while True:
        state = _container_state(client, container_id)
        if state.get("Running") is False:
            return _with_late_oom_flag(client, container_id, state)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)


def _with_late_oom_flag(client: docker.DockerClient, container_id: str, state: dict) -> dict:
    """The stopped ``state``, with OOMKilled set when a SIGKILL ended it and the engine saw an OOM.

    The engine sets OOMKilled only when the kernel's OOM event reaches it before the container's
    exit; under gVisor it often comes after, and only the engine's "oom" event tells.
    """
    if state.get("ExitCode") != _EXIT_CODE_WHEN_KILLED or state.get("OOMKilled"):
        return state
    deadline = time.monotonic() + _OOM_FLAG_LAG_S
    while not _oom_event_seen(client, container_id):
        if time.monotonic() > deadline:
            return state
        time.sleep(0.1)
    return {**state, "OOMKilled": True}


def _oom_event_seen(client: docker.DockerClient, container_id: str) -> bool:
    """Whether the engine reported an OOM of the container in the last minute."""
    now = int(time.time())
    try:
        events = client.api.events(
            since=now - _OOM_EVENT_WINDOW_S, until=now + 1, filters={"container": container_id, "event": "oom"},
            decode=True,
        )  # fmt: skip
        return bool(list(events))
    except docker.errors.APIError:
        return False


def _container_state(client: docker.DockerClient, container_id: str) -> dict:
    """``State`` of the container's inspect; a gone container counts as stopped, an engine error as unknown."""
    try:
        return client.api.inspect_container(container_id)["State"]
    except docker.errors.NotFound:
        return {"Running": False}
    except docker.errors.APIError:
        return {}


def _create_exec(
    client: docker.DockerClient, container_id: str, argv: list[str], user: str, workdir: str
) -> str:
    try:
        return client.api.exec_create(
            container_id, argv, stdout=True, stderr=True, user=user, workdir=workdir
        )["Id"]
    except docker.errors.NotFound as exc:
        raise SandboxError(f"container {container_id[:12]} is gone; cannot run {argv[0]} in it") from exc
    except docker.errors.APIError as exc:
        if exc.status_code == 409:
            state = _with_late_oom_flag(client, container_id, _container_state(client, container_id))
            _refuse_when_killed_at_memory_limit(state, f"before {argv[0]} could run")
            raise SandboxError(
                f"container {container_id[:12]} is not running (killed after a timeout, "
                f"or its lifetime is over); cannot run {argv[0]} in it"
            ) from exc
        raise SandboxError(
            f"could not start {argv[0]} in container {container_id[:12]}: {exc.explanation or exc}"
        ) from exc


def _start_reading(client: docker.DockerClient, exec_id: str, max_output_bytes: int) -> _StreamOutcome:
    outcome = _StreamOutcome()

    def read_stream() -> None:
        stdout, stderr = _CappedOutput(max_output_bytes), _CappedOutput(MAX_STREAM_BYTES)
        try:
            for out_chunk, err_chunk in client.api.exec_start(exec_id, stream=True, demux=True):
                stdout.add(out_chunk or b"")
                stderr.add(err_chunk or b"")
            outcome.stdout, outcome.stderr = stdout.value(), stderr.value()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            outcome.error = exc
        finally:
            outcome.done.set()

    threading.Thread(target=read_stream, name=f"exec-{exec_id[:12]}", daemon=True).start()
    return outcome


MAX_STREAM_BYTES = 1024 * 1024


class _CappedOutput:
    """The first and last half of ``limit`` bytes of a stream, with a marker where the middle was dropped."""

    def __init__(self, limit: int):
        self.half = limit // 2
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.half - len(self.head)
        self.head += chunk[:room]
        self.tail += chunk[room:] if room > 0 else chunk
        if len(self.tail) > self.half:
            self.dropped += len(self.tail) - self.half
            del self.tail[: len(self.tail) - self.half]

    def value(self) -> bytes:
        marker = f"\n[... {self.dropped} bytes dropped ...]\n".encode() if self.dropped else b""
        return bytes(self.head) + marker + bytes(self.tail)


def _exit_code(client: docker.DockerClient, exec_id: str, timed_out: bool) -> int:
    """The exec's exit status; 137 (SIGKILL) when it was killed with its container."""
    if timed_out:
        return _EXIT_CODE_WHEN_KILLED
    try:
        exit_code = client.api.exec_inspect(exec_id).get("ExitCode")
    except docker.errors.APIError:
        exit_code = None
    return _EXIT_CODE_WHEN_KILLED if exit_code is None else int(exit_code)
