"""Find a run record by id, unique prefix or `latest`."""

from __future__ import annotations

from pathlib import Path

from wave_sandbox.engine.records import RunRecord, list_run_records
from wave_sandbox.errors import RunNotFoundError


def find_run(repo: Path, run: str) -> RunRecord:
    records = list_run_records(repo)
    if not records:
        raise RunNotFoundError(f"no runs recorded in {repo}/.wave/runs; start one with `wave-sandbox run`")
    if run == "latest":
        return records[-1]
    matches = [record for record in records if record.run_id.startswith(run)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RunNotFoundError(f"no run '{run}' in {repo}/.wave/runs; `wave-sandbox runs` lists them")
    raise RunNotFoundError(f"'{run}' matches {len(matches)} runs; give more of the id")
