"""The attacker suite: scripted agents attack from inside their containers through `wave-sandbox run`.

Reuses the integration fixtures (a real daemon, the agent image; each module makes its own repository) and
adds nothing that fakes the middle: only the model is scripted.
"""

from __future__ import annotations

from tests.integration.conftest import agent_image, docker  # noqa: F401 - fixtures for this folder
