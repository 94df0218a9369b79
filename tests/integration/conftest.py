"""Shared fixtures for tests against the real Docker daemon, real git and real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).with_name("wave-sandbox")
LABEL = "wave-sandbox.run"


@pytest.fixture(scope="session")
def docker():
    from wave_sandbox.sandbox.client import docker_client

    return docker_client()


@pytest.fixture(scope="session")
def agent_image(docker) -> str:
    from wave_sandbox.sandbox.images import ensure_agent_image

    return ensure_agent_image(docker, lambda message: print(message, file=sys.stderr))


def gateway_socket_folders(run_ids: set[str]) -> list[str]:
    """The gateway socket folders (``<tmp>/wave-sandbox-gateway-<run id>-<random>``) of these runs."""
    from wave_sandbox.sandbox.gateway_socket import FOLDER_PREFIX, temporary_base

    found = []
    for run_id in sorted(run_ids):
        prefix = f"{FOLDER_PREFIX}{run_id}-"
        # the random part has no '-': run "r-1" must not claim run "r-1-2"'s folder
        found += [str(p) for p in temporary_base().glob(f"{prefix}*") if "-" not in p.name[len(prefix):]]
    return sorted(found)


def run_objects(docker, run_ids: set[str]) -> dict[str, list[str]]:
    """The containers, networks and volumes labelled with any of these runs' ids, their gateway socket folders,
    and firewall rules (networks and rules only runs of earlier versions made; a leftover of one still counts)."""
    from wave_sandbox.sandbox.firewall import firewall_run_ids

    found: dict[str, list[str]] = {"containers": [], "networks": [], "volumes": []}
    for run_id in sorted(run_ids):
        selector = {"label": f"{LABEL}={run_id}"}
        # sparse: a container removed between listing and inspecting must not fail the check
        found["containers"] += [c.attrs.get("Names", [c.id])[0]
                                for c in docker.containers.list(all=True, sparse=True, filters=selector)]
        found["networks"] += [n.name for n in docker.networks.list(filters=selector)]
        found["volumes"] += [v.name for v in docker.volumes.list(filters=selector)]
    found["gateway sockets"] = gateway_socket_folders(run_ids)
    found["firewall rules"] = sorted(firewall_run_ids() & set(run_ids))
    return found


def assert_run_left_nothing(docker, *run_ids: str, timeout_s: float = 15.0) -> None:
    """Poll the daemon (and the temporary folder) until nothing of these runs remains, or fail naming what is left.

    Only these runs: other tests and sessions may run pipelines on the same daemon meanwhile."""
    assert run_ids and all(run_ids), "name the runs to check"
    deadline = time.monotonic() + timeout_s
    while any((left := run_objects(docker, set(run_ids))).values()):
        if time.monotonic() > deadline:
            raise AssertionError(f"Docker objects left behind by {run_ids}: {left}")
        time.sleep(0.2)


def run_ids_in(repo: Path) -> list[str]:
    """The ids of every run recorded in `repo`."""
    runs = repo / ".wave" / "runs"
    return sorted(p.name for p in runs.iterdir() if (p / "run.json").is_file()) if runs.is_dir() else []


def git(repo: Path, *arguments: str) -> str:
    environment = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    }
    return subprocess.run(
        ["git", "-C", str(repo), *arguments], check=True, capture_output=True, text=True, env=environment
    ).stdout


@pytest.fixture
def repo(tmp_path) -> Path:
    """A small real git repository with two commits."""
    root = tmp_path / "service"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "app.py").write_text("def handler():\n    return 200\n")
    (root / "README.md").write_text("# service\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Initial service")
    (root / "app.py").write_text("def handler():\n    return 500\n")
    git(root, "commit", "-q", "-am", "Break the handler")
    return root


def run_cli(*arguments: str, cwd: Path, timeout: float = 240, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        [str(CLI), *arguments], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=environment
    )
