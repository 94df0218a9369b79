"""doctor's engine lines come from the backend's capabilities (here the fake's), not from Docker calls."""

from __future__ import annotations

from wave_sandbox.cli.doctor_cmd import check_backend, check_controls, check_credentials, check_gvisor, check_image
from wave_sandbox.errors import DockerUnavailableError
from wave_sandbox.sandbox.fake import FakeBackend


class UnreachableBackend(FakeBackend):
    def capabilities(self):
        raise DockerUnavailableError("cannot reach the Docker daemon at unix:///nowhere")


def test_doctor_reports_the_backends_capabilities(tmp_path):
    backend = FakeBackend(base_dir=tmp_path)
    engine, capabilities = check_backend(backend)
    assert engine == ("docker", True, "engine fake (host processes, no isolation) answers")
    assert check_image(capabilities) == ("agent image", True, "fake-image (the fake needs no image)")
    [controls] = check_controls(capabilities)
    assert controls[:2] == ("controls", False) and "isolation" in controls[2]
    assert check_gvisor(backend, capabilities)[2].startswith("no runsc runtime")


def test_an_unreachable_engine_is_one_missing_line(tmp_path):
    assert check_backend(UnreachableBackend(base_dir=tmp_path)) == (
        ("docker", False, "cannot reach the Docker daemon at unix:///nowhere"),
        None,
    )


def test_credentials_are_judged_by_the_settings_without_showing_the_key(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret-value")
    name, ok, detail = check_credentials()
    assert (name, ok) == ("credentials", True) and "sk-ant" not in detail
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert check_credentials()[1] is False
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-secret-value")
    name, ok, detail = check_credentials()
    assert ok and "OPENAI_API_KEY" in detail and "sk-openai" not in detail


def test_doctor_asks_the_backend_and_the_settings_not_docker_nor_the_environment():
    import inspect

    from wave_sandbox.cli import doctor_cmd

    source = inspect.getsource(doctor_cmd)
    assert "environ" not in source and "except Exception" not in source and ".info()" not in source
