"""A scripted craftsman edits one file and adds another in its read-write clone: the user's repository
gains exactly one branch with exactly that commit, and nothing else of it changes (real daemon, real git)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.integration.conftest import git
from tests.integration.workspace.helpers import (
    assert_run_left_nothing,
    bash,
    craftsman_pipeline,
    edit_file,
    json_events,
    name_status,
    only_run_id,
    quiet_git,
    repository_state,
    run_record,
    say,
    start_cli,
    finish_cli,
    wave_branches,
    without_run_branches,
    write_file,
    write_pipeline,
)

pytestmark = pytest.mark.docker

PIPELINE_NAME = "hotfix"
HEAD_APP = "def handler():\n    return 500\n"
DIRTY_APP = "def handler():\n    return 404  # uncommitted experiment\n"
NEW_TEST = "from app import handler\n\n\ndef test_handler_answers_200():\n    assert handler() == 200\n"
SUMMARY = "Fixed the handler"

SCRIPT = {
    "steps": {
        "fix": [
            [bash("cat /src/app.py /src/README.md > output/seen.txt; "
                  "ls -A /src | tr '\\n' ' ' >> output/seen.txt")],
            [edit_file("/src/app.py", "return 500", "return 200"),
             write_file("/src/tests/test_handler.py", NEW_TEST)],
            [write_file("output/fix.md", "# Fix\n\nThe handler answers 200 again.\n")],
            say(f"{SUMMARY}\nThe handler returned 500 for every request."),
        ]
    }
}


def build_repository(root: Path, dirty: bool) -> Path:
    """Two commits, a side branch, a stash, a local config entry; when `dirty`, a modified tracked
    file, a staged change and an untracked file."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.useConfigOnly", "true")
    (root / "app.py").write_text("def handler():\n    return 200\n")
    (root / "README.md").write_text("# service\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Initial service")
    git(root, "branch", "feature")
    (root / "app.py").write_text(HEAD_APP)
    git(root, "commit", "-q", "-am", "Break the handler")
    (root / "README.md").write_text("# stashed edit\n")
    git(root, "stash", "push", "-q", "-m", "work in progress")
    if dirty:
        (root / "app.py").write_text(DIRTY_APP)
        (root / "README.md").write_text("# staged edit\n")
        git(root, "add", "README.md")
        (root / "notes.txt").write_text("untracked notes\n")
    return root


def start_craftsman(base: Path, dirty: bool, json_output: bool) -> dict:
    repo = build_repository(base / "service", dirty)
    before = repository_state(repo)
    artifacts = {"seen": "output/seen.txt", "fix": "output/fix.md"}
    pipeline, script = write_pipeline(base, craftsman_pipeline(PIPELINE_NAME, artifacts), SCRIPT)
    process = start_cli(
        "run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script}", "--output", "out",
        *(["--json"] if json_output else []), cwd=base,
    )
    return {"process": process, "repo": repo, "before": before, "head": before["head"].strip(), "out": base / "out"}


def finish_craftsman(run: dict) -> dict:
    run["completed"] = finish_cli(run.pop("process"))
    run["run_id"] = only_run_id(run["repo"])
    run["branch"] = f"wave/{PIPELINE_NAME}/{run['run_id']}"
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory, agent_image, docker):
    """Two runs at once: --json on a repository with uncommitted changes, a stash and a side branch;
    console output on a clean one."""
    dirty = start_craftsman(tmp_path_factory.mktemp("dirty"), dirty=True, json_output=True)
    clean = start_craftsman(tmp_path_factory.mktemp("clean"), dirty=False, json_output=False)
    return {"dirty": finish_craftsman(dirty), "clean": finish_craftsman(clean)}


@pytest.fixture(scope="module")
def dirty_run(runs):
    return runs["dirty"]


@pytest.fixture(scope="module")
def console_run(runs):
    return runs["clean"]


def test_the_run_succeeds(dirty_run, console_run):
    assert dirty_run["completed"].returncode == 0, dirty_run["completed"].stderr
    assert console_run["completed"].returncode == 0, console_run["completed"].stderr


def test_exactly_one_run_branch_is_created(dirty_run):
    assert wave_branches(dirty_run["repo"]) == [f"refs/heads/{dirty_run['branch']}"]


def test_the_branch_has_one_commit_on_top_of_the_starting_head(dirty_run):
    repo, branch = dirty_run["repo"], dirty_run["branch"]
    assert git(repo, "rev-list", f"{dirty_run['head']}..{branch}").split() == [git(repo, "rev-parse", branch).strip()]
    assert git(repo, "log", "-1", "--format=%P", branch).split() == [dirty_run["head"]]


def test_the_commit_holds_exactly_the_two_changes(dirty_run):
    repo, branch = dirty_run["repo"], dirty_run["branch"]
    assert name_status(repo, dirty_run["head"], branch) == ["M\tapp.py", "A\ttests/test_handler.py"]
    assert git(repo, "show", f"{branch}:app.py") == "def handler():\n    return 200\n"
    assert git(repo, "show", f"{branch}:tests/test_handler.py") == NEW_TEST


def test_the_commit_message_and_trailers(dirty_run):
    repo, branch, run_id = dirty_run["repo"], dirty_run["branch"], dirty_run["run_id"]
    # The subject says what the change is: the summary, with the first clause of the report after it
    # (a three-word summary reads as a bare status); the body quotes the report, indented.
    assert git(repo, "log", "-1", "--format=%B", branch) == (
        f"{SUMMARY}: The handler returned 500 for every request\n\n"
        f"Step fix (craftsman) of run {run_id}.\n\n"
        "The craftsman's report:\n    The handler returned 500 for every request.\n\n"
        f"Wave-Run: {run_id}\nWave-Pipeline: {PIPELINE_NAME}\nWave-Step: fix\n\n"
    )
    trailers = git(repo, "log", "-1", "--format=%(trailers:only,unfold)", branch).split("\n")
    assert trailers[:3] == [f"Wave-Run: {run_id}", f"Wave-Pipeline: {PIPELINE_NAME}", "Wave-Step: fix"]


def test_the_commit_author_and_committer(dirty_run):
    identity = git(dirty_run["repo"], "log", "-1", "--format=%an <%ae>|%cn <%ce>", dirty_run["branch"]).strip()
    assert identity == "wave-sandbox <wave-sandbox@localhost>|wave-sandbox <wave-sandbox@localhost>"


def test_status_head_index_and_working_tree_are_byte_identical(dirty_run):
    after = repository_state(dirty_run["repo"])
    before = dirty_run["before"]
    for key in ("status", "head", "index", "working_tree", "stash"):
        assert after[key] == before[key], key


def test_git_metadata_other_refs_and_stash_are_untouched(dirty_run):
    after = repository_state(dirty_run["repo"])
    before = dirty_run["before"]
    assert without_run_branches(after["refs"]) == before["refs"]
    assert after["git_metadata"] == before["git_metadata"]  # config, HEAD, hooks, other refs, reflogs, stash


def test_the_final_json_event_names_the_branch_and_its_full_commit_ids(dirty_run):
    final = json_events(dirty_run["completed"].stdout)[-1]
    assert final["state"] == "run_completed"
    assert final["branch"] == dirty_run["branch"]
    assert final["commits"] == [git(dirty_run["repo"], "rev-parse", dirty_run["branch"]).strip()]
    assert re.fullmatch(r"[0-9a-f]{40}", final["commits"][0])


def test_run_json_records_the_branch_and_commits(dirty_run):
    record = run_record(dirty_run["repo"], dirty_run["run_id"])
    assert record["branch"] == dirty_run["branch"]
    assert record["commits"] == [git(dirty_run["repo"], "rev-parse", dirty_run["branch"]).strip()]
    assert record["base_commit"] == dirty_run["head"]


def test_the_dirty_tree_is_reported_in_one_line_on_stderr(dirty_run):
    notices = [line for line in dirty_run["completed"].stderr.splitlines() if "uncommitted" in line]
    assert len(notices) == 1
    assert "3 uncommitted change(s)" in notices[0] and "HEAD" in notices[0]
    assert "uncommitted" not in dirty_run["completed"].stdout


def test_the_dirty_tree_is_left_alone(dirty_run):
    repo = dirty_run["repo"]
    assert (repo / "app.py").read_text() == DIRTY_APP
    assert (repo / "notes.txt").read_text() == "untracked notes\n"
    assert quiet_git(repo, "diff", "--cached", "--name-only") == "README.md\n"
    assert quiet_git(repo, "status", "--porcelain") == "M  README.md\n M app.py\n?? notes.txt\n"


def test_the_clone_held_the_head_version_without_uncommitted_changes(dirty_run):
    seen = (dirty_run["out"] / "seen.txt").read_text()
    assert seen.startswith(HEAD_APP + "# service\n")
    assert "404" not in seen and "staged" not in seen and "stashed" not in seen
    assert "notes.txt" not in seen.splitlines()[-1].split()


def test_the_console_names_the_branch_with_its_commit_count_and_diffstat(console_run):
    lines = console_run["completed"].stdout.splitlines()
    assert lines[-1] == f"Branch: {console_run['branch']} (1 commit, 2 files changed)"
    assert lines[-2] == "Artifacts: out/seen.txt, out/fix.md"
    assert re.fullmatch(rf"Pipeline {PIPELINE_NAME} completed in \d+s", lines[-3])


def test_a_clean_tree_gets_no_uncommitted_notice(console_run):
    assert "uncommitted" not in console_run["completed"].stderr


def test_the_clone_is_removed_when_the_run_ends(dirty_run, console_run):
    for run in (dirty_run, console_run):
        assert not (run["repo"] / ".wave" / "runs" / run["run_id"] / "clone").exists()


def test_nothing_labelled_is_left_behind(dirty_run, console_run, docker):
    assert_run_left_nothing(docker, dirty_run["run_id"], console_run["run_id"])
