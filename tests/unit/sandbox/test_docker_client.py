"""A daemon that does not answer becomes one line saying where we looked and what to do."""

from __future__ import annotations

import pytest

from wave_sandbox.errors import DockerUnavailableError
from wave_sandbox.sandbox.client import docker_client


def test_an_absent_daemon_is_reported_with_its_address(monkeypatch, tmp_path):
    address = f"unix://{tmp_path}/no-daemon.sock"
    monkeypatch.setenv("DOCKER_HOST", address)
    with pytest.raises(DockerUnavailableError) as failure:
        docker_client()
    assert str(failure.value) == f"Docker daemon not reachable at {address}. Start Docker or set DOCKER_HOST."
    assert failure.value.exit_code == 2
