"""Connect to the Docker daemon, turning "no daemon" into one line a user can act on.

Every other module of `wave_sandbox.sandbox` receives the client made here; this is the one place
where a missing or unreachable daemon enters, so the translation to `DockerUnavailableError` lives here.
"""

from __future__ import annotations

import os
import weakref

import docker
import docker.errors
import requests

from wave_sandbox.errors import DockerUnavailableError

__all__ = ["DEFAULT_DOCKER_HOST", "daemon_version", "docker_client", "docker_host_url"]

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


def docker_host_url() -> str:
    """The daemon address the client will use: `DOCKER_HOST` or the default socket."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


def docker_client(timeout_s: int = 120) -> docker.DockerClient:
    """Return a client connected to a daemon that answers.

    Raises:
        DockerUnavailableError: no daemon answers at `DOCKER_HOST` (or the default socket), or the
            socket is not ours to use.
    """
    url = docker_host_url()
    try:
        # The check that the daemon answers: the client asks its API version (GET /version) as it is made
        # (docker-py's "auto", from_env's default), so no ping besides.
        client = docker.from_env(timeout=timeout_s)
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise DockerUnavailableError(_unreachable_message(url, exc)) from exc
    return client


_versions: "weakref.WeakKeyDictionary[docker.DockerClient, dict]" = weakref.WeakKeyDictionary()


def daemon_version(client: docker.DockerClient) -> dict:
    """The daemon's `GET /version` answer, asked once per client (a run needs it for the engine's facts and
    for the image's architecture, ~10 ms each asking)."""
    if client not in _versions:
        _versions[client] = client.version()
    return _versions[client]


def _unreachable_message(url: str, exc: BaseException) -> str:
    """Say what happened and what to do; a permission problem needs a different fix than a stopped daemon."""
    if _caused_by_permission_denied(exc):
        return (
            f"Permission denied on the Docker daemon at {url}. "
            "Add your user to the docker group (then log in again) or set DOCKER_HOST."
        )
    return f"Docker daemon not reachable at {url}. Start Docker or set DOCKER_HOST."


def _caused_by_permission_denied(exc: BaseException) -> bool:
    """Walk the exception chain; docker-py buries the socket's PermissionError a few levels down."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, PermissionError) or "Permission denied" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False
