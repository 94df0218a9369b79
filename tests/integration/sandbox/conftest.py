"""Fixtures for the sandbox tests: real daemon, the agent image, and a check that nothing is left.

Every run id made here starts with this session's prefix, so the leftover check (after each Docker
test, polling the daemon, the temporary folder for gateway socket folders, and the host firewall for
rules of earlier versions) sees only this session's objects, never those of a concurrent run on the
same daemon. Objects a module shares on purpose are checked when the module ends.
"""

from __future__ import annotations

import shutil
import time

import pytest

from wave_sandbox.sandbox import firewall
from wave_sandbox.sandbox.cleanup import ResourceRegistry, remove_labelled_resources
from wave_sandbox.sandbox.gateway_socket import FOLDER_PREFIX, temporary_base
from wave_sandbox.sandbox.labels import RUN_LABEL
from wave_sandbox.sandbox.runtimes import engine_runtimes

from .helpers import SESSION_RUN_PREFIX, shared_run_ids


def leftovers(docker, include_shared: bool) -> dict[str, list[str]]:
    """This session's labelled objects, gateway socket folders and firewall rules still present."""

    def ours_by_id(run_id: str) -> bool:
        return run_id.startswith(SESSION_RUN_PREFIX) and (include_shared or run_id not in shared_run_ids)

    def ours(labels: dict | None) -> bool:
        return ours_by_id((labels or {}).get(RUN_LABEL, ""))

    api, labelled = docker.api, {"label": RUN_LABEL}
    return {
        "containers": [c["Names"][0] for c in api.containers(all=True, filters=labelled) if ours(c["Labels"])],
        "networks": [n["Name"] for n in api.networks(filters=labelled) if ours(n["Labels"])],
        "volumes": [v["Name"] for v in api.volumes(filters=labelled).get("Volumes") or [] if ours(v["Labels"])],
        "gateway sockets": [str(folder) for folder in session_socket_folders() if ours_by_id(_socket_run_id(folder))],
        "firewall rules": [rid for rid in firewall.firewall_run_ids() if ours_by_id(rid)],
    }  # fmt: skip


def session_socket_folders() -> list:
    return sorted(temporary_base().glob(f"{FOLDER_PREFIX}{SESSION_RUN_PREFIX}*"))


def _socket_run_id(folder) -> str:
    return folder.name[len(FOLDER_PREFIX):].rsplit("-", 1)[0]


def assert_nothing_left(docker, include_shared: bool, timeout_s: float = 10.0) -> None:
    """Poll until this session has nothing left; otherwise remove it (for the next test) and fail."""
    deadline = time.monotonic() + timeout_s
    while any((left := leftovers(docker, include_shared)).values()):
        if time.monotonic() > deadline:
            for run_id in {*shared_run_ids} if include_shared else set():
                remove_labelled_resources(docker, run_id, is_run_alive=lambda _run_id: False)
            sweep_session(docker, spare_shared=not include_shared)
            raise AssertionError(f"wave-sandbox objects left behind: {left}")
        time.sleep(0.2)


def sweep_session(docker, spare_shared: bool) -> None:
    report = remove_labelled_resources(
        docker,
        is_run_alive=lambda run_id: (
            not run_id.startswith(SESSION_RUN_PREFIX) or (spare_shared and run_id in shared_run_ids)
        ),
    )
    for folder in session_socket_folders():
        if not (spare_shared and _socket_run_id(folder) in shared_run_ids):
            shutil.rmtree(folder, ignore_errors=True)
    assert not report.failures, report.failures


_modules_that_used_docker: set[str] = set()


@pytest.fixture(autouse=True)
def nothing_left_after_each_docker_test(request):
    """After every Docker test: nothing of this session remains but what its module shares."""
    yield
    if request.node.get_closest_marker("docker") is not None:
        _modules_that_used_docker.add(request.module.__name__)
        assert_nothing_left(request.getfixturevalue("docker"), include_shared=False)


@pytest.fixture(scope="module", autouse=True)
def nothing_left_after_each_module(request):
    """After a module that used Docker: nothing at all of this session remains, shared objects included."""
    yield
    if request.module.__name__ in _modules_that_used_docker:
        assert_nothing_left(request.getfixturevalue("docker"), include_shared=True)


@pytest.fixture
def registry(docker):
    """A run's registry, emptied after the test as a run's finally would."""
    run_registry = ResourceRegistry(docker)
    yield run_registry
    assert run_registry.remove_all() == []


@pytest.fixture(params=["runc", pytest.param("runsc", marks=pytest.mark.runsc)])
def runtime(request, docker) -> str:
    """The steps' runtime: the engine's default, and gVisor (skipped when the engine has no runsc)."""
    if request.param not in engine_runtimes(docker):
        pytest.skip(f"the Docker engine has no {request.param} runtime (.ci/run installs and registers runsc)")
    return request.param
