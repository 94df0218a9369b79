"""Helpers of the sandbox tests: this session's run ids and small ContainerSpecs."""

from __future__ import annotations

import itertools
import os
import uuid
from pathlib import Path

from wave_sandbox.sandbox.contract import BindMount, ContainerSpec

SESSION_RUN_PREFIX = f"pytest-sandbox-{uuid.uuid4().hex[:6]}-"
_run_numbers = itertools.count(1)
shared_run_ids: set[str] = set()
TEST_USER = "10001:10001" if os.geteuid() == 0 else f"{os.getuid()}:{os.getgid()}"


def new_run_id(shared: bool = False) -> str:
    """A run id of this test session; ``shared`` ones outlive one test (checked at module end)."""
    run_id = f"{SESSION_RUN_PREFIX}{next(_run_numbers)}"
    if shared:
        shared_run_ids.add(run_id)
    return run_id


def make_spec(image: str, run_id: str | None = None, **overrides) -> ContainerSpec:
    """A small, fast ContainerSpec for tests."""
    values = dict(
        run_id=run_id or new_run_id(), step_id="step", image=image, network=None, user=TEST_USER,
        environment={"WAVE_TEST": "1"}, mounts=[], workspace_mb=16, workspace_dirs=["output"],
        cpus=1.0, memory_mb=256, pids=128, lifetime_s=120, masked_paths=[],
    )  # fmt: skip
    values.update(overrides)
    return ContainerSpec(**values)


def read_only_mount(source: Path, target: str = "/src") -> BindMount:
    return BindMount(source=source, target=target, read_only=True)
