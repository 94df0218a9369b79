"""A step container's lifeline: it stops by itself within a second of the process that made it ending.

PID 1 (tini) runs one lifetime process, ``bash -c 'read -r -t LIFETIME _'``: it reads the container's
stdin, which the engine opens (``OpenStdin``, ``StdinOnce``) and which the run's process alone holds,
through an attach made before the container starts. When that process ends in any way (a finished
step, Ctrl-C, ``kill -9``, a crash), the kernel closes its end, the engine closes the container's
stdin, ``read`` sees end-of-file, and the container stops: no network, no later command and no
timer are needed, so it works the same for a container with no network at all. The lifetime bounds
the container's life as before when nobody holds its stdin (nobody attached) or someone keeps it open.

The attach socket is non-inheritable (Python's default), so no git or other child of the run
process keeps a container alive after the run's process is gone.
"""

from __future__ import annotations

import socket
import threading

import docker
import docker.errors

from wave_sandbox.errors import SandboxError

LIFETIME_SCRIPT = 'read -r -t "$0" _'
"""Ends at end-of-file on stdin (the run's process is gone) or after ``$0`` seconds, whichever is first."""


def lifetime_command(lifetime_s: int) -> list[str]:
    """The command PID 1 runs: the container's whole life is this one process."""
    return ["bash", "-c", LIFETIME_SCRIPT, str(int(lifetime_s))]


class Lifelines:
    """The stdin attaches this process holds, one per container; thread-safe."""

    def __init__(self, client: docker.DockerClient):
        self.client = client
        self._lock = threading.Lock()
        self._held: dict[str, object] = {}

    def attach(self, container_id: str) -> None:
        """Hold the container's stdin (call before starting it, so no moment is without a holder).

        Raises:
            SandboxError: the engine refused the attach.
        """
        try:
            held = self.client.api.attach_socket(container_id, params={"stdin": 1, "stream": 1})
        except docker.errors.APIError as exc:
            raise SandboxError(f"could not attach to container {container_id[:12]}: {exc.explanation or exc}") from exc
        with self._lock:
            self._held[container_id] = held

    def cut(self, container_id: str) -> None:
        """Let go of the container's stdin (it then stops, if it still runs); silent when not held."""
        with self._lock:
            held = self._held.pop(container_id, None)
        if held is not None:
            _close(held)


def _close(held: object) -> None:
    """Close the attach's socket itself: closing docker-py's SocketIO wrapper alone leaves it open."""
    raw = getattr(held, "_sock", held)
    try:
        if isinstance(raw, socket.socket):
            raw.shutdown(socket.SHUT_RDWR)
            raw.close()
        held.close()
    except OSError:
        pass
