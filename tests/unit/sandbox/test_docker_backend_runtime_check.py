"""The Docker backend judges --runtime runsc by the engine's own registration of it (``docker info``'s
runtimeArgs): without --host-uds=open its steps could not reach the gateway's socket. No Docker: a stub
daemon answers ``info`` and ``version``, and no image is looked up."""

from __future__ import annotations

import pytest

from wave_sandbox.errors import ConfigurationError
from wave_sandbox.sandbox import docker_backend
from wave_sandbox.sandbox.docker_backend import DockerBackend


class _Daemon:
    def __init__(self, runsc_args: list[str]):
        self.runtimes = {"runc": {"path": "runc"}, "runsc": {"path": "/usr/bin/runsc", "runtimeArgs": runsc_args}}

    def info(self) -> dict:
        return {"OperatingSystem": "Debian GNU/Linux 12 (bookworm)", "Runtimes": self.runtimes}

    def version(self) -> dict:
        return {"Version": "20.10.24", "Components": [{"Name": "Engine"}]}


@pytest.fixture(autouse=True)
def no_image(monkeypatch):
    monkeypatch.setattr(docker_backend, "image_status", lambda client: (False, "not built", None))


def test_runsc_registered_with_host_uds_is_accepted():
    backend = DockerBackend(client=_Daemon(["--network=host", "--host-uds=open"]))
    assert backend.check_runtime("runsc") == "runsc" and backend.check_runtime(None) is None


def test_runsc_registered_without_host_uds_is_refused_in_one_line():
    backend = DockerBackend(client=_Daemon(["--network=host"]))
    with pytest.raises(ConfigurationError) as refused:
        backend.check_runtime("runsc")
    assert "\n" not in str(refused.value) and "--host-uds=open" in str(refused.value)
    assert backend.check_runtime("runc") == "runc"


def test_doctor_is_told_why_runsc_cannot_be_used_before_any_container_is_tried():
    works, detail = DockerBackend(client=_Daemon(["--host-uds=none"])).try_runtime("runsc")
    assert not works and detail.startswith("the engine's runsc is registered without --host-uds=open")
