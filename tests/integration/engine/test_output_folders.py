"""`--output` folders that cannot hurt: real runs (real daemon, real git), scripted model.

Refused (one line, exit 2, no record, nothing on the daemon): an existing file, a folder git tracks, a
folder holding anything but an earlier run's delivered artifacts, a folder another live run writes.
The default `output/` is at the repository's top level; a repository that tracks `output/` is asked
for `--output`; a run that replaces an earlier run's files says so, and those files come back from the
earlier run's record with `artifacts RUN --export DIR`.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from tests.integration.conftest import git, run_cli
from tests.integration.scripted_runs import one_commit_repository, write_file, write_pipeline, say
from tests.integration.workspace.helpers import assert_run_left_nothing, finish_cli, quiet_git, start_cli

pytestmark = pytest.mark.docker

NOTE_PIPELINE = """\
kind: WavePipeline
metadata:
  name: notes
steps:
  - id: write
    persona: navigator
    exec:
      source: "Write the note for {{ input }}"
    output_artifacts:
      - name: note
        path: output/note.md
      - name: data
        path: output/data.json
"""


def note_script(text: str, delay_s: float = 0) -> dict:
    turns = [[write_file("output/note.md", text), write_file("output/data.json", json.dumps({"note": text}))]]
    if delay_s:
        turns.append({"delay_s": delay_s, "content": say("Waited")})
    return {"steps": {"write": [*turns, say(f"Wrote {text}")]}}


@pytest.fixture
def project(tmp_path, agent_image, docker):
    """A repository with a tracked `orders/` folder, and the notes pipeline beside it."""
    repo = one_commit_repository(tmp_path / "service")
    (repo / "orders").mkdir()
    (repo / "orders" / "handlers.py").write_text("def handle():\n    return 200\n")
    (repo / "sub" / "deeper").mkdir(parents=True)
    (repo / "sub" / "deeper" / "keep.txt").write_text("tracked\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "orders")
    definitions = tmp_path / "definitions"
    definitions.mkdir()
    return {"repo": repo, "definitions": definitions, "tmp": tmp_path, "docker": docker}


def run_notes(project: dict, text: str, *options: str, cwd: Path | None = None, delay_s: float = 0):
    pipeline, script = write_pipeline(project["definitions"], NOTE_PIPELINE, note_script(text, delay_s))
    return run_cli("run", str(pipeline), text, "--model", f"scripted:{script}", *options,
                   cwd=cwd or project["repo"])


def run_ids(repo: Path) -> list[str]:
    root = repo / ".wave" / "runs"
    return sorted(path.name for path in root.iterdir() if path.is_dir()) if root.is_dir() else []


def assert_refused(completed, *fragments: str) -> None:
    assert completed.returncode == 2, completed.stderr
    lines = [line for line in completed.stderr.splitlines() if not line.startswith("notice:")]
    assert len(lines) == 1 and lines[0].startswith("Error: "), completed.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in completed.stderr and "Internal error" not in completed.stderr


def test_the_default_output_is_at_the_top_level_from_any_subdirectory(project):
    repo = project["repo"]
    status_before = quiet_git(repo, "status", "--porcelain", "--untracked-files=all")
    completed = run_notes(project, "first", cwd=repo / "sub" / "deeper")
    assert completed.returncode == 0, completed.stderr
    artifacts_line = next(line for line in completed.stdout.splitlines() if line.startswith("Artifacts:"))
    assert "output/note.md" in artifacts_line and str(repo) not in artifacts_line
    assert (repo / "output" / "note.md").read_text() == "first"
    assert not (repo / "sub" / "deeper" / "output").exists() and not (repo / "sub" / "deeper" / ".wave").exists()
    assert quiet_git(repo, "status", "--porcelain", "--untracked-files=all") == status_before
    assert_run_left_nothing(project["docker"], *run_ids(repo))


def test_an_existing_file_is_refused_in_one_line(project):
    target = project["tmp"] / "report.md"
    target.write_text("mine\n")
    completed = run_notes(project, "x", "--output", str(target))
    assert_refused(completed, str(target), "is a file")
    assert target.read_text() == "mine\n" and run_ids(project["repo"]) == []


def test_a_tracked_folder_is_refused_and_never_written(project):
    repo = project["repo"]
    before = sorted(path.name for path in (repo / "orders").iterdir())
    completed = run_notes(project, "x", "--output", "orders")
    assert_refused(completed, "--output orders", "git tracks", "handlers.py")
    assert sorted(path.name for path in (repo / "orders").iterdir()) == before  # no .gitignore hiding sources
    assert quiet_git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert run_ids(repo) == []


def test_a_repository_tracking_output_is_asked_for_output(project):
    repo = project["repo"]
    (repo / "output").mkdir()
    (repo / "output" / "README.md").write_text("generated docs live here\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "output docs")
    completed = run_notes(project, "x", cwd=repo / "sub")
    assert_refused(completed, "the repository tracks output/", "README.md", "pass --output DIR")
    assert sorted(path.name for path in (repo / "output").iterdir()) == ["README.md"]
    chosen = run_notes(project, "x", "--output", str(project["tmp"] / "elsewhere"), cwd=repo / "sub")
    assert chosen.returncode == 0, chosen.stderr


def test_a_folder_holding_other_files_is_refused_and_left_alone(project):
    folder = project["tmp"] / "mine"
    (folder / "nested").mkdir(parents=True)
    (folder / "notes.txt").write_text("my notes\n")
    completed = run_notes(project, "x", "--output", str(folder))
    assert_refused(completed, "nested", "notes.txt", "no run delivered")
    assert (folder / "notes.txt").read_text() == "my notes\n"
    assert sorted(path.name for path in folder.iterdir()) == ["nested", "notes.txt"]


def test_a_delivered_file_edited_since_is_refused(project):
    repo = project["repo"]
    assert run_notes(project, "first").returncode == 0
    (repo / "output" / "note.md").write_text("first, with my edits")
    completed = run_notes(project, "second")
    assert_refused(completed, "note.md changed since run", "move it away")
    assert (repo / "output" / "note.md").read_text() == "first, with my edits"


def test_a_new_run_replaces_an_earlier_runs_files_with_one_line_and_export_brings_them_back(project):
    repo = project["repo"]
    assert run_notes(project, "first").returncode == 0
    [first] = run_ids(repo)
    second = run_notes(project, "second")
    assert second.returncode == 0, second.stderr
    notices = [line for line in second.stderr.splitlines() if "this run replaces" in line]
    assert len(notices) == 1 and first in notices[0] and f"artifacts {first} --export" in notices[0], second.stderr
    assert (repo / "output" / "note.md").read_text() == "second"
    exported = project["tmp"] / "first-run"
    completed = run_cli("artifacts", first, "--export", str(exported), cwd=repo / "sub")
    assert completed.returncode == 0, completed.stderr
    assert (exported / "note.md").read_text() == "first"
    assert json.loads((exported / "data.json").read_text()) == {"note": "first"}
    back = run_cli("artifacts", first, "--export", "output", cwd=repo)  # into output/: replaces the second's
    assert back.returncode == 0 and (repo / "output" / "note.md").read_text() == "first", back.stderr
    assert "this run replaces" in back.stderr


def test_files_of_a_run_whose_record_is_gone_are_kept_in_the_new_record(project):
    repo = project["repo"]
    assert run_notes(project, "first").returncode == 0
    [first] = run_ids(repo)
    shutil.rmtree(repo / ".wave" / "runs" / first)
    second = run_notes(project, "second")
    assert second.returncode == 0, second.stderr
    [new] = run_ids(repo)
    kept = repo / ".wave" / "runs" / new / "replaced-output" / first
    assert (kept / "note.md").read_text() == "first", second.stderr
    assert "keeps them in" in second.stderr


def test_a_folder_an_older_version_filled_is_recognised_by_the_records(project):
    repo = project["repo"]
    assert run_notes(project, "first").returncode == 0
    (repo / "output" / ".wave-sandbox-output.json").unlink()  # as an older version left it
    second = run_notes(project, "second")
    assert second.returncode == 0, second.stderr
    assert (repo / "output" / "note.md").read_text() == "second"


def test_two_live_runs_cannot_share_an_output_folder(project):
    pipeline, script = write_pipeline(project["definitions"], NOTE_PIPELINE, note_script("slow", delay_s=8))
    shared = project["tmp"] / "shared"
    first = start_cli("run", str(pipeline), "--model", f"scripted:{script}", "--output", str(shared),
                      cwd=project["repo"])
    try:
        _wait_for(lambda: (shared / ".wave-sandbox-output.json").exists())
        second = run_notes(project, "fast", "--output", str(shared))
    finally:
        done = finish_cli(first)
    assert_refused(second, "being written by another run")
    assert done.returncode == 0, done.stderr
    assert (shared / "note.md").read_text() == "slow"


def _wait_for(condition, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the first run never prepared its output folder"
        time.sleep(0.1)

