"""A review branch with a huge text file: the report reads only the diff it shows (512 KiB), not all of it;
a malformed record (a transcript that is a folder or a FIFO) is skipped, neither fatal nor waited for."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from tests.integration.conftest import git
from wave_sandbox.engine.records import RunRecord
from wave_sandbox.report.run_report import DIFF_SHOWN_BYTES, build_run_report

RUN_ID = "20260101-000000-0b16"
FILE_BYTES = 48 * 1024 * 1024


def test_the_report_reads_a_huge_branch_diff_only_as_far_as_it_shows_it(tmp_path: Path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "init")
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "switch", "-q", "-c", f"wave/p/{RUN_ID}")
    with open(repo / "big.txt", "w") as handle:
        handle.write(("x" * 99 + "\n") * (FILE_BYTES // 100))
    git(repo, "add", "big.txt")
    git(repo, "commit", "-q", "-m", "an agent's huge file")
    git(repo, "switch", "-q", "main")
    folder = repo / ".wave" / "runs" / RUN_ID
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"run_id": RUN_ID, "pipeline": "p", "status": "completed",
                                                 "branch": f"wave/p/{RUN_ID}", "base_commit": base}))
    tracemalloc.start()
    try:
        report = build_run_report(RunRecord.load(repo, RUN_ID))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.diff_truncated and len(report.diff.diff) == DIFF_SHOWN_BYTES
    assert "big.txt" in report.diff.stat and report.diff.diff.startswith("diff --git a/big.txt b/big.txt")
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB for a {FILE_BYTES / 2**20:.0f} MiB diff"


@pytest.mark.timeout(60)
def test_a_transcript_that_is_a_folder_or_a_fifo_is_skipped_not_fatal_or_waited_for(tmp_path: Path):
    import os

    from wave_sandbox.report.written import write_run_report

    folder = tmp_path / "repo" / ".wave" / "runs" / RUN_ID
    for step in ("folder", "fifo"):
        (folder / "steps" / step).mkdir(parents=True)
    (folder / "steps" / "folder" / "transcript.jsonl").mkdir()
    os.mkfifo(folder / "steps" / "fifo" / "transcript.jsonl")
    (folder / "run.json").write_text(json.dumps({"run_id": RUN_ID, "pipeline": "p", "status": "completed",
                                                 "steps": {"folder": {"status": "completed"},
                                                           "fifo": {"status": "completed"}}}))
    markdown, _ = write_run_report(RunRecord.load(tmp_path / "repo", RUN_ID))
    assert "## Step fifo" in markdown.read_text() and "## Step folder" in markdown.read_text()
