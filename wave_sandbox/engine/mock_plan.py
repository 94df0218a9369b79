"""Under `--model mock`, tell the mock model which stub files each step must write.

The content is generated on the host from the step's declared artifacts and resolved contracts
(`contracts.mock_content`), so the step's own checks pass; the mock model then writes them through the
agent's tools in the step's container, like any model would.
"""

from __future__ import annotations

from typing import Any

from wave_sandbox.contracts.mock_content import mock_artifact_text
from wave_sandbox.engine.step_execution import StepJob

__all__ = ["plan_mock_step"]


def plan_mock_step(upstream: Any, job: StepJob) -> None:
    """Hand the mock upstream the step's files (a command step has no model: nothing to plan)."""
    if job.command_argv is not None:
        return
    files = {
        artifact.path: mock_artifact_text(job.step_id, artifact.path, artifact.type, job.contracts)
        for artifact in job.outputs
    }
    upstream.plan_step(job.step_id, files)
