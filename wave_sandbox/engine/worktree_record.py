"""What a `workspace.type: worktree` step asked for, kept in its step record.

Wave gives such a step a git worktree on `workspace.branch` (created from `workspace.base`). Here every
read-write step of a run works on the run's one clone of HEAD, and its changes are committed to the
review branch `wave/<pipeline>/<run-id>`, never to a branch the pipeline names: so the branch and base
are recorded (rendered with the run's variables), and the step record says where the work went.
"""

from __future__ import annotations

from wave_sandbox.engine.records import RunRecord
from wave_sandbox.engine.step_jobs import RunSettings, template_variables
from wave_sandbox.spec.loader import LoadedPipeline
from wave_sandbox.spec.templating import render_template

__all__ = ["record_workspace_choice"]


def record_workspace_choice(record: RunRecord, loaded: LoadedPipeline, step_id: str, settings: RunSettings) -> None:
    """Record a worktree step's branch and base as Wave would have named them."""
    workspace = loaded.pipeline.step(step_id).workspace
    if workspace is None or workspace.type != "worktree":
        return
    variables = template_variables(loaded, step_id, settings)
    record.update_step(step_id, worktree={
        "branch": render_template(workspace.branch, variables) if workspace.branch else None,
        "base": render_template(workspace.base, variables) if workspace.base else None,
        "review_branch": f"wave/{loaded.name}/{settings.run_id}",
        "note": "the step worked on the run's read-write clone of HEAD; its changes are on the review branch",
    })
