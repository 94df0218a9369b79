"""Clones that interrupted or crashed runs left in their record folders."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from wave_sandbox.engine.records import list_run_records
from wave_sandbox.workspace.clone import removing_path


def remove_leftover_clones(repo: Path, is_run_alive: Callable[[str], bool]) -> int:
    removed = 0
    for record in list_run_records(repo):
        for clone in (record.folder / "clone", removing_path(record.folder / "clone")):
            if clone.is_dir() and not is_run_alive(record.run_id):
                shutil.rmtree(clone, ignore_errors=True)
                removed += 1
    return removed
