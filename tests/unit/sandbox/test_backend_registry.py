"""The backend registry: built-in names, a registered factory, a clear error for an unknown name."""

from __future__ import annotations

import sys

import pytest

from wave_sandbox.errors import ConfigurationError
from wave_sandbox.sandbox import registry
from wave_sandbox.sandbox.backend import SandboxBackend
from wave_sandbox.sandbox.fake import FakeBackend


def test_the_fake_is_built_in_and_takes_options(tmp_path):
    backend = registry.get_backend("fake", base_dir=tmp_path)
    assert isinstance(backend, FakeBackend) and isinstance(backend, SandboxBackend)
    assert backend.base_dir == tmp_path


def test_docker_is_the_default_and_choosing_it_asks_the_daemon_nothing():
    backend = registry.get_backend()
    assert backend.name == "docker" and backend._client is None


def test_a_registered_factory_is_used_and_an_unknown_name_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "_factories", {})
    registry.register_backend("elsewhere", lambda **options: FakeBackend(**options))
    assert isinstance(registry.get_backend("elsewhere", base_dir=tmp_path), FakeBackend)
    assert registry.backend_names() == ["docker", "elsewhere", "fake"]
    with pytest.raises(ConfigurationError, match="no sandbox backend named 'kubernetes'; known: docker, elsewhere"):
        registry.get_backend("kubernetes")


def test_the_fake_backend_does_not_load_the_docker_sdk(tmp_path):
    import subprocess

    code = (
        "import sys; from wave_sandbox.sandbox.registry import get_backend; get_backend('fake'); "
        "import wave_sandbox.engine.launch; print('docker' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
