"""Labels and names of the Docker objects wave-sandbox creates.

Every container, network and volume carries ``wave-sandbox.run=<run-id>`` and
``wave-sandbox.owner=<host>:<pid>:<start>`` (containers and volumes also ``wave-sandbox.step``), so
that the per-run registry, ``clean`` after a crash and the tests' teardown all find them, and so that
``clean`` can tell whether the process that made them is still alive.
"""

from __future__ import annotations

import re
import secrets

from wave_sandbox.sandbox.owner import current_owner

RUN_LABEL = "wave-sandbox.run"
STEP_LABEL = "wave-sandbox.step"
OWNER_LABEL = "wave-sandbox.owner"

# Docker object names allow [a-zA-Z0-9][a-zA-Z0-9_.-]*; anything else in a run or step id becomes '-'.
_NOT_ALLOWED_IN_DOCKER_NAMES = re.compile(r"[^a-zA-Z0-9_.-]+")


def resource_labels(run_id: str, step_id: str | None = None) -> dict[str, str]:
    """The labels of an object made for ``run_id`` (and ``step_id``) by this process."""
    labels = {RUN_LABEL: run_id, OWNER_LABEL: current_owner()}
    if step_id is not None:
        labels[STEP_LABEL] = step_id
    return labels


def docker_object_name(kind: str, run_id: str, step_id: str | None = None) -> str:
    """A unique, readable Docker name such as ``wave-sandbox-<run>-<step>-ctr-1a2b3c``."""
    parts = ["wave-sandbox", run_id] + ([step_id] if step_id else []) + [kind, secrets.token_hex(3)]
    name = "-".join(_NOT_ALLOWED_IN_DOCKER_NAMES.sub("-", part).strip("-.") or "x" for part in parts)
    return name[:200]
