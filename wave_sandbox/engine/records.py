"""Run records under `<repo>/.wave/runs/<run-id>/`: enough to resume and to audit, never a secret.

    run.json                    pipeline, input, model, status, per-step status, timings, tokens, branch
    events.jsonl                every event, as `--json` prints it
    steps/<id>/step.json        what the agent was told (mounted read-only into the container)
    steps/<id>/transcript.jsonl every model exchange, written by the gateway
    steps/<id>/agent.log        the agent's own progress log
    steps/<id>/artifacts/       the step's collected artifacts
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wave_sandbox.engine.events import RunEvent
from wave_sandbox.engine.run_file import RunFile
from wave_sandbox.workspace.layout import RUNS_FOLDER, ensure_self_ignoring_folder, runs_root

__all__ = ["RUNS_FOLDER", "RunRecord", "ensure_self_ignoring_folder", "list_run_records", "runs_root"]



def write_json_atomically(path: Path, data: Any) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    os.replace(temporary, path)


@dataclass
class RunRecord:
    """The folder of one run and the state written to its run.json."""

    repo: Path
    run_id: str
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    @property
    def folder(self) -> Path:
        return runs_root(self.repo) / self.run_id

    @property
    def run_file(self) -> RunFile:
        """run.json as its model: every key a default when an older version did not write it."""
        with self._lock:
            return RunFile.model_validate({"run_id": self.run_id, **self.data})

    @classmethod
    def create(cls, repo: Path, run_id: str, contents: RunFile) -> "RunRecord":
        ensure_self_ignoring_folder(runs_root(repo))
        record = cls(repo=repo, run_id=run_id, data=contents.to_json_data())
        (record.folder / "steps").mkdir(parents=True, exist_ok=False)
        record.save()
        return record

    @classmethod
    def load(cls, repo: Path, run_id: str) -> "RunRecord":
        """Read run.json; a ValueError when it is no JSON object or does not fit the model."""
        path = runs_root(repo) / run_id / "run.json"
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            raise ValueError(f"{path} holds no JSON object")
        RunFile.model_validate({"run_id": run_id, **data})  # pydantic's ValidationError is a ValueError
        return cls(repo=repo, run_id=run_id, data=data)

    def step_folder(self, step_id: str) -> Path:
        folder = self.folder / "steps" / step_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def artifacts_folder(self, step_id: str) -> Path:
        folder = self.step_folder(step_id) / "artifacts"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def collected_artifacts(self, step_id: str) -> list[Path]:
        """The files a step's collection kept (regular files only, never a link), sorted; creates nothing."""
        folder = self.folder / "steps" / step_id / "artifacts"
        if not folder.is_dir():
            return []
        return [path for path in sorted(folder.iterdir()) if path.is_file() and not path.is_symlink()]

    def update(self, **changes: Any) -> None:
        with self._lock:
            self.data.update(changes)
            self._save_locked()

    def update_step(self, step_id: str, **changes: Any) -> None:
        with self._lock:
            self.data.setdefault("steps", {}).setdefault(step_id, {}).update(changes)
            self._save_locked()

    def save(self) -> None:
        with self._lock:
            self._save_locked()

    def _save_locked(self) -> None:
        write_json_atomically(self.folder / "run.json", self.data)

    def append_event(self, event: RunEvent) -> None:
        line = json.dumps(event.to_json_dict(), ensure_ascii=False)
        with self._lock, open(self.folder / "events.jsonl", "a") as stream:
            stream.write(line + "\n")


def list_run_records(repo: Path) -> list[RunRecord]:
    root = runs_root(repo)
    if not root.is_dir():
        return []
    records = []
    for folder in sorted(root.iterdir()):
        if (folder / "run.json").is_file():
            try:
                records.append(RunRecord.load(repo, folder.name))
            except (OSError, ValueError):
                continue
    return records
