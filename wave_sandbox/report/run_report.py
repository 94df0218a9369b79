"""What a run report shows, gathered from the run's record: the steps on a timeline, their summaries,
results, tokens and cost, the artifacts, the evidence pass's suspects, and the review branch.

Everything here but the numbers came from agents, models or the repository: the renderers escape it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from wave_sandbox.engine.records import RunRecord
from wave_sandbox.engine.run_file import RunFile, StepRecord
from wave_sandbox.errors import WaveSandboxError
from wave_sandbox.report.evidence_found import Suspects, suspects_in_transcripts
from wave_sandbox.workspace.review_diff import BranchDiff, read_branch_diff

ARTIFACT_SHOWN_BYTES = 64 * 1024
DIFF_SHOWN_BYTES = 512 * 1024


@dataclass(frozen=True)
class ArtifactView:
    step_id: str
    name: str
    size: int
    kind: str
    """markdown, json or text"""
    text: str
    truncated: bool

    @property
    def shown_text(self) -> str:
        """The text as shown: JSON pretty-printed when it parses (a cut or too-deep document as it is)."""
        if self.kind != "json":
            return self.text
        try:
            return json.dumps(json.loads(self.text), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):
            return self.text


@dataclass(frozen=True)
class StepView:
    step_id: str
    record: StepRecord
    offset_s: float
    """Seconds from the run's start to the step's."""
    artifacts: list[ArtifactView]

    @property
    def cost_usd(self) -> float | None:
        return self.record.cost_usd


@dataclass
class RunReport:
    run: RunFile
    steps: list[StepView]
    suspects: Suspects | None = None
    diff: BranchDiff | None = None
    diff_problem: str | None = None
    diff_truncated: bool = False
    acting_files: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total_s(self) -> float:
        ends = [step.offset_s + (step.record.duration_ms or 0) / 1000 for step in self.steps]
        return max([*ends, (self.run.duration_ms or 0) / 1000, 0.001])


def build_run_report(record: RunRecord) -> RunReport:
    run = record.run_file
    started = _moment(run.started_at)
    steps = [
        StepView(step_id, step, _offset(started, step.started_at), _artifacts(record, step_id))
        for step_id, step in run.steps.items()
    ]
    report = RunReport(run, steps, suspects_in_transcripts(record.folder / "steps", record.folder))
    report.acting_files = [(str(item.get("path", "")), str(item.get("reason", ""))) for item in run.acting_files]
    if run.branch:
        _add_diff(report, record.repo, run)
    return report


def _add_diff(report: RunReport, repo: Path, run: RunFile) -> None:
    try:
        diff = read_branch_diff(repo, run.branch, run.base_commit, DIFF_SHOWN_BYTES)
    except WaveSandboxError as error:
        report.diff_problem = str(error)
        return
    report.diff_truncated = len(diff.diff) > DIFF_SHOWN_BYTES
    report.diff = BranchDiff(diff.branch, diff.base, diff.tip, diff.commits, diff.stat, diff.diff[:DIFF_SHOWN_BYTES])


def _artifacts(record: RunRecord, step_id: str) -> list[ArtifactView]:
    if not is_inside(record.folder, record.folder / "steps" / step_id / "artifacts"):
        return []
    return [_artifact_view(step_id, path) for path in record.collected_artifacts(step_id)]


def is_inside(root: Path, path: Path) -> bool:
    """The path, every link in it followed, is still under the record: a symlinked step or artifacts
    folder (or transcript) would make the report show a host file."""
    try:
        return path.resolve(strict=True).is_relative_to(root.resolve(strict=True))
    except (OSError, RuntimeError):
        return False


def _artifact_view(step_id: str, path: Path) -> ArtifactView:
    size = path.stat().st_size
    with open(path, "rb") as handle:
        data = handle.read(ARTIFACT_SHOWN_BYTES)
    kind = {".md": "markdown", ".markdown": "markdown", ".json": "json"}.get(path.suffix.lower(), "text")
    text = data.decode("utf-8", "replace")
    return ArtifactView(step_id, path.name, size, kind, text, size > ARTIFACT_SHOWN_BYTES)


def _moment(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _offset(run_start: datetime | None, step_start: str | None) -> float:
    moment = _moment(step_start)
    if run_start is None or moment is None:
        return 0.0
    return max(0.0, (moment - run_start).total_seconds())
