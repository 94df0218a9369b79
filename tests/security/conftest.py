"""The attacker suite: scripted agents attack from inside their containers through `wave-sandbox run`.

Reuses the integration fixtures (a real daemon, the agent image; each module makes its own repository) and
adds nothing that fakes the middle: only the model is scripted.

Each module's attack run happens once per container runtime (``runtime``): the engine's default
(runc) and gVisor (runsc, marked ``runsc``; skipped when the engine has no runsc runtime). Where
gVisor gives a control differently (runtimes.py), the test says what it checks under each.
"""

from __future__ import annotations

import pytest

from tests.integration.conftest import agent_image, docker  # noqa: F401 - fixtures for this folder

RUNTIMES = [pytest.param("runc", id="runc"), pytest.param("runsc", id="runsc", marks=pytest.mark.runsc)]


@pytest.fixture(scope="module", params=RUNTIMES)
def runtime(request, docker) -> str:  # noqa: F811 - the imported fixture
    """The container runtime of this module's attack run: runc, or runsc when the engine has it."""
    from wave_sandbox.sandbox.runtimes import engine_runtimes

    if request.param not in engine_runtimes(docker):
        pytest.skip(f"the Docker engine has no {request.param} runtime (.ci/run installs and registers runsc)")
    return request.param
