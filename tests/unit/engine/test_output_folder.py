"""The output folder's rules on real folders and real git (no Docker): what is refused, what is
recognised as an earlier run's, what a resumed run keeps, one run per folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import git
from tests.integration.scripted_runs import one_commit_repository
from wave_sandbox.engine.earlier_delivery import MANIFEST_NAME
from wave_sandbox.engine.output_folder import OutputFolder
from wave_sandbox.engine.records import RunRecord
from wave_sandbox.engine.run_file import RunFile, StepRecord, StepStatus
from wave_sandbox.errors import ConfigurationError
from wave_sandbox.workspace.repository_root import repository_root


@pytest.fixture
def repo(tmp_path) -> Path:
    return one_commit_repository(tmp_path / "repo").resolve()


def recorded_run(repo: Path, run_id: str, artifacts: dict[str, bytes], completed: bool = True) -> RunRecord:
    """A run record whose step `write` collected (and, when completed, delivered) `artifacts`."""
    status = StepStatus.COMPLETED if completed else StepStatus.RUNNING
    delivered = [f"output/{name}" for name in artifacts] if completed else []
    record = RunRecord.create(repo, run_id, RunFile(run_id=run_id, steps={"write": StepRecord(status=status, artifacts=delivered)}))
    for name, content in artifacts.items():
        (record.artifacts_folder("write") / name).write_bytes(content)
    return record


def deliver_run(repo: Path, folder: Path, run_id: str, artifacts: dict[str, bytes]) -> OutputFolder:
    record = recorded_run(repo, run_id, artifacts)
    output = OutputFolder(folder, repo, str(folder))
    output.check(run_id)
    output.prepare(record, lambda message: None)
    for name, content in artifacts.items():
        output.deliver(name, content)
    output.release()
    return output


def refusal(folder: Path, repo: Path, run_id: str = "20990101-000000-next", display: str | None = None) -> str:
    with pytest.raises(ConfigurationError) as caught:
        OutputFolder(folder, repo, display or str(folder)).check(run_id)
    return str(caught.value)


def test_a_new_folder_inside_the_repository_ignores_itself_and_holds_the_manifest(repo):
    output = deliver_run(repo, repo / "reports" / "latest", "20990101-000000-aaaa", {"a.md": b"A"})
    folder = output.folder
    assert (folder / ".gitignore").read_text() == "*\n"
    assert json.loads((folder / MANIFEST_NAME).read_text())["run_id"] == "20990101-000000-aaaa"
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_the_default_folder_tracked_by_the_repository_asks_for_output(repo):
    (repo / "output").mkdir()
    (repo / "output" / "keep.txt").write_text("tracked")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "output")
    assert refusal(repo / "output", repo, display="output").startswith("the repository tracks output/ (keep.txt)")


def test_a_file_a_link_or_an_edited_artifact_is_refused(tmp_path, repo):
    folder = tmp_path / "out"
    deliver_run(repo, folder, "20990101-000000-aaaa", {"a.md": b"A", "b.json": b"{}"})
    (folder / "a.md").write_bytes(b"A, edited")
    assert "a.md changed since run 20990101-000000-aaaa delivered it" in refusal(folder, repo)
    (folder / "a.md").write_bytes(b"A")
    (folder / "elsewhere").symlink_to(tmp_path)
    assert "holds elsewhere, which no run delivered" in refusal(folder, repo)


def test_a_folder_without_manifest_is_matched_against_the_records(tmp_path, repo):
    folder = tmp_path / "older"
    deliver_run(repo, folder, "20990101-000000-aaaa", {"a.md": b"A"})
    (folder / MANIFEST_NAME).unlink()
    output = OutputFolder(folder, repo, str(folder))
    output.check("20990101-000000-bbbb")
    assert (output.earlier.run_id, output.earlier.files) == ("20990101-000000-aaaa", ["a.md"])
    output.release()
    (folder / "a.md").write_bytes(b"not from a run")
    assert "holds a.md, which no run delivered" in refusal(folder, repo)


def test_a_resumed_run_keeps_its_own_files_and_a_taken_over_folder_gets_them_again(tmp_path, repo):
    folder = tmp_path / "out"
    deliver_run(repo, folder, "20990101-000000-aaaa", {"a.md": b"A"})
    first = RunRecord.load(repo, "20990101-000000-aaaa")
    notices: list[str] = []
    resumed = OutputFolder(folder, repo, str(folder))
    resumed.check(first.run_id)
    resumed.prepare(first, notices.append)
    resumed.release()
    assert notices == [] and (folder / "a.md").read_bytes() == b"A"
    deliver_run(repo, folder, "20990101-000000-bbbb", {"a.md": b"B"})  # another run takes the folder over
    again = OutputFolder(folder, repo, str(folder))
    again.check(first.run_id)
    again.prepare(first, notices.append)
    again.release()
    assert (folder / "a.md").read_bytes() == b"A" and "20990101-000000-bbbb" in notices[0]


def test_one_run_at_a_time_per_folder(tmp_path, repo):
    holder = OutputFolder(tmp_path / "out", repo, "out")
    holder.check("20990101-000000-aaaa")
    assert "being written by another run" in refusal(tmp_path / "out", repo)
    holder.release()
    OutputFolder(tmp_path / "out", repo, "out").check("20990101-000000-bbbb")


def test_the_repository_root_is_found_from_a_subfolder_and_a_missing_folder_is_refused(tmp_path, repo):
    (repo / "a" / "b").mkdir(parents=True)
    assert repository_root(repo / "a" / "b") == repo
    assert repository_root(tmp_path) == tmp_path.resolve()  # no checkout: the folder itself
    with pytest.raises(ConfigurationError, match="does not exist"):
        repository_root(tmp_path / "nope")
