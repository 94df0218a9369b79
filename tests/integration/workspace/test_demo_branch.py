"""`make demo`, as a regression test: the built-in incident-response pipeline on the example repository
with the demo's scripted model writes the five artifacts and leaves the fix on a review branch."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tests.integration.conftest import CLI, PROJECT, git, run_cli
from tests.integration.workspace.helpers import (
    assert_run_left_nothing,
    name_status,
    repository_state,
    run_record,
    wave_branches,
)

pytestmark = pytest.mark.docker

DEMO_INPUT = "500 errors spiking on /api/orders endpoint since 14:30 UTC"
ARTIFACTS = ["triage.json", "investigation.md", "root-cause.md", "remediation.md", "incident-report.md"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, agent_image, docker):
    base = tmp_path_factory.mktemp("demo")
    target = base / "orders-service"
    subprocess.run([str(PROJECT / "examples" / "make_demo_repo.sh"), str(target)], check=True, capture_output=True)
    before = repository_state(target)
    completed = run_cli(
        "run", "incident-response", DEMO_INPUT, "--repo", str(target),
        "--model", f"scripted:{PROJECT / 'examples' / 'incident-response.script.yaml'}", "--output", "output",
        cwd=base, timeout=300,
    )
    match = re.search(r"^Branch: (wave/incident-response/(\S+)) ", completed.stdout, re.MULTILINE)
    return {"completed": completed, "repo": target, "out": base / "output", "before": before,
            "branch": match and match.group(1), "run_id": match and match.group(2)}


def test_the_demo_run_succeeds(demo_run):
    assert demo_run["completed"].returncode == 0, demo_run["completed"].stderr
    assert demo_run["branch"], demo_run["completed"].stdout


def test_the_demo_writes_its_five_artifacts(demo_run):
    bookkeeping = {".gitignore", ".wave-sandbox-output.json"}  # ignoring itself; which run delivered what
    assert sorted(path.name for path in demo_run["out"].iterdir() if path.name not in bookkeeping) == sorted(ARTIFACTS)
    assert all((demo_run["out"] / name).stat().st_size > 0 for name in ARTIFACTS)


def test_the_demo_closing_lines(demo_run):
    repo, branch = demo_run["repo"], demo_run["branch"]
    files_changed = len(git(repo, "diff", "--name-only", "HEAD", branch).splitlines())
    lines = demo_run["completed"].stdout.splitlines()
    assert lines[-4] == ""
    assert re.fullmatch(r"Pipeline incident-response completed in \d+s", lines[-3])
    assert lines[-2] == "Artifacts: output/incident-report.md"
    assert lines[-1] == f"Branch: {branch} (1 commit, {files_changed} files changed)"


def test_git_show_of_the_branch_shows_the_demo_fix(demo_run):
    shown = git(demo_run["repo"], "show", demo_run["branch"])
    subject = git(demo_run["repo"], "log", "-1", "--format=%s", demo_run["branch"]).strip()
    # the subject says what the fix is: the craftsman's "Fix ready" and the first clause of its report
    assert subject.startswith("Fix ready: Index on orders (customer_id, created_at), one page per")
    assert len(subject) <= 72
    assert f"Step remediate (craftsman) of run {demo_run['run_id']}." in shown
    root_cause = f".wave/runs/{demo_run['run_id']}/steps/root-cause/artifacts/"
    assert f"    analysis (step root-cause): {root_cause}" in shown  # the body cites the root cause artifact
    assert f"Wave-Run: {demo_run['run_id']}" in shown
    assert "diff --git a/orders/history.py b/orders/history.py" in shown
    assert "LIMIT" in shown  # the history query gets bounded


def test_the_demo_fix_sits_on_the_demo_head(demo_run):
    repo, branch = demo_run["repo"], demo_run["branch"]
    assert wave_branches(repo) == [f"refs/heads/{branch}"]
    assert git(repo, "log", "-1", "--format=%P", branch).strip() == git(repo, "rev-parse", "HEAD").strip()
    changes = name_status(repo, "HEAD", branch)
    assert "M\torders/history.py" in changes
    assert all(not line.split("\t")[1].startswith(("logs/", ".wave/")) for line in changes)


def test_the_demo_leaves_the_example_repository_as_it_was(demo_run):
    after = repository_state(demo_run["repo"])
    for key in ("status", "head", "index", "working_tree"):
        assert after[key] == demo_run["before"][key], key


def test_the_demo_records_the_branch(demo_run):
    record = run_record(demo_run["repo"], demo_run["run_id"])
    assert record["status"] == "completed" and record["branch"] == demo_run["branch"]
    assert record["commits"] == [git(demo_run["repo"], "rev-parse", demo_run["branch"]).strip()]
    assert record["steps"]["remediate"]["refusals"] == []


def test_the_demo_leaves_nothing(demo_run, docker):
    assert_run_left_nothing(docker, demo_run["run_id"])
    assert not (demo_run["repo"] / ".wave" / "runs" / demo_run["run_id"] / "clone").exists()


def test_the_demo_ends_with_the_review_commands_on_stderr(demo_run):
    errors = demo_run["completed"].stderr.splitlines()
    branch = demo_run["branch"]
    start = errors.index("To review the fix:")
    assert errors[start:start + 6] == [
        "To review the fix:",
        f"  wave-sandbox review {demo_run['run_id']} --repo orders-service",
        f"  git -C orders-service diff HEAD...{branch}",
        "To take it:",
        f"  git -C orders-service switch {branch}      # try it on its own branch",
        f"  git -C orders-service merge {branch}       # or merge it into your current branch",
    ]
    assert "To review the fix:" not in demo_run["completed"].stdout


def test_the_review_commands_work_when_pasted(demo_run, tmp_path):
    """Each printed command, pasted into a shell in the folder the run started from (a copy of it)."""
    copy = tmp_path / "base"
    shutil.copytree(demo_run["repo"].parent, copy, symlinks=True, ignore=shutil.ignore_patterns("output"))
    errors = demo_run["completed"].stderr.splitlines()
    commands = [line.split("#")[0].strip() for line in errors[errors.index("To review the fix:"):] if line.startswith("  ")]
    shown = {}
    for command in commands:
        done = subprocess.run(["bash", "-c", command], cwd=copy, capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PATH": f"{CLI.parent}:{os.environ['PATH']}"})
        assert done.returncode == 0, (command, done.stderr)
        shown[command.split()[0 if command.startswith("wave") else 3]] = done.stdout
    assert "orders/history.py" in shown["wave-sandbox"] and "diff --git a/orders/history.py" in shown["diff"]
    repo = copy / "orders-service"
    assert git(repo, "symbolic-ref", "--short", "HEAD").strip() == demo_run["branch"]
    assert "LIMIT" in (repo / "orders" / "history.py").read_text()


def test_review_shows_the_diffstat_and_the_diff(demo_run):
    done = run_cli("review", demo_run["run_id"], "--repo", str(demo_run["repo"]), cwd=demo_run["repo"].parent)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    head = git(demo_run["repo"], "rev-parse", "HEAD").strip()
    assert lines[0] == f"Branch {demo_run['branch']}: 1 commit since {head[:12]} (run {demo_run['run_id']})"
    assert any(re.fullmatch(r" 6 files changed, \d+ insertions\(\+\), \d+ deletions\(-\)", line) for line in lines)
    assert "diff --git a/orders/history.py b/orders/history.py" in lines
    stat_only = run_cli("review", "latest", "--stat", "--repo", str(demo_run["repo"]), cwd=demo_run["repo"].parent)
    assert "diff --git" not in stat_only.stdout and "To take it:" in stat_only.stdout
