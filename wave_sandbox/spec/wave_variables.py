"""The template variables Wave fills from the repository, known before a run starts.

`project.*` from wave.yaml's `project:`, `forge.*` from the remote URL (text only, see forge_info),
`branch_name` (the checked-out branch, read from `.git/HEAD`), `feature_num` and
`pipeline_context.branch_name`/`feature_num`, as Wave's `NewPipelineContext` derives them. Run-time
ones (`input`, `pipeline_id`, `run.id`, `artifacts.<as>`) are added by the engine per step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from wave_sandbox.spec.forge_info import ForgeInfo, detect_forge
from wave_sandbox.spec.templating import render_template
from wave_sandbox.spec.wave_project import WaveProject

FEATURE_PREFIX = re.compile(r"^(\d{3})-")
BRANCH_NAME = re.compile(r"^[A-Za-z0-9._/-]{1,200}$")


@dataclass(frozen=True)
class RepositoryVariables:
    """Variables of one repository, and the forge they came from."""

    forge: ForgeInfo
    values: dict[str, str] = field(default_factory=dict)

    def render(self, text: str, extra: dict[str, str] | None = None) -> str:
        return render_template(text, {**self.values, **(extra or {})})


def repository_variables(repo: Path, project: WaveProject) -> RepositoryVariables:
    forge = detect_forge(repo, project.forge_override)
    branch = current_branch(repo)
    feature = FEATURE_PREFIX.match(branch)
    values = {**project.project_variables, **forge.variables()}
    values.update({
        "branch_name": branch, "feature_num": feature.group(1) if feature else "",
        "pipeline_context.branch_name": branch, "pipeline_context.feature_num": feature.group(1) if feature else "",
    })
    return RepositoryVariables(forge, values)


def current_branch(repo: Path) -> str:
    """The branch `.git/HEAD` points at ("" when detached, absent or odd)."""
    try:
        head = (repo / ".git" / "HEAD").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""
    branch = head.removeprefix("ref: refs/heads/") if head.startswith("ref: refs/heads/") else ""
    return branch if BRANCH_NAME.match(branch) else ""
