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


def labelled_objects(docker) -> dict[str, list[str]]:
    return {
        "containers": [
            c.attrs.get("Names", [c.id])[0]
            for c in docker.containers.list(all=True, sparse=True, filters={"label": LABEL})
        ],
        "networks": [n.name for n in docker.networks.list(filters={"label": LABEL})],
        "volumes": [v.name for v in docker.volumes.list(filters={"label": LABEL})],
    }


def assert_nothing_left(docker, timeout_s: float = 10.0) -> None:
    """Poll the daemon until no object labelled wave-sandbox.run remains (or fail naming them)."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = labelled_objects(docker)
        if not any(left.values()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"Docker objects left behind: {left}")
        time.sleep(0.2)


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
