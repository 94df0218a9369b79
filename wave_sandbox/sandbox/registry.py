"""Which sandbox backends exist, by name: the CLI picks one here and hands it to the engine.

A backend module is imported only when its backend is asked for, so choosing the fake never loads
the Docker SDK. A new backend (Kubernetes, see docs/scale-out.md) registers a factory under a name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from wave_sandbox.errors import ConfigurationError
from wave_sandbox.sandbox.backend import SandboxBackend

BackendFactory = Callable[..., SandboxBackend]
DEFAULT_BACKEND = "docker"

_factories: dict[str, BackendFactory] = {}
_BUILT_IN = {
    "docker": ("wave_sandbox.sandbox.docker_backend", "DockerBackend"),
    "fake": ("wave_sandbox.sandbox.fake", "FakeBackend"),
}


def register_backend(name: str, factory: BackendFactory) -> None:
    """Make ``get_backend(name)`` call ``factory(**options)``; a name registered again is replaced."""
    _factories[name] = factory


def backend_names() -> list[str]:
    return sorted({*_BUILT_IN, *_factories})


def get_backend(name: str = DEFAULT_BACKEND, **options: object) -> SandboxBackend:
    """A new backend called ``name``, made with ``options``.

    Raises:
        ConfigurationError: no backend has that name.
    """
    factory = _factories.get(name) or _built_in_factory(name)
    if factory is None:
        raise ConfigurationError(f"no sandbox backend named {name!r}; known: {', '.join(backend_names())}")
    return factory(**options)


def _built_in_factory(name: str) -> BackendFactory | None:
    if name not in _BUILT_IN:
        return None
    module_name, class_name = _BUILT_IN[name]
    return getattr(importlib.import_module(module_name), class_name)
