"""Pipelines, scripts and repository states shared by the read-write workspace tests."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from tests.integration.conftest import assert_run_left_nothing, git  # noqa: F401 (shared)
from tests.integration.scripted_runs import bash, edit_file, say, write_file, write_pipeline  # noqa: F401 (shared)

CRAFTSMAN_PIPELINE = """\
kind: WavePipeline
metadata:
  name: {name}
steps:
  - id: fix
    persona: craftsman
    workspace:
      mount:
        - source: ./
          target: /src
          mode: readwrite
    exec:
      source: "Fix the handler"
    output_artifacts:
{artifacts}
"""


def craftsman_pipeline(name: str, artifacts: dict[str, str]) -> str:
    lines = "".join(f"      - name: {artifact}\n        path: {path}\n" for artifact, path in artifacts.items())
    return CRAFTSMAN_PIPELINE.format(name=name, artifacts=lines.rstrip("\n"))


def quiet_git(repo: Path, *arguments: str) -> str:
    """The test's own read-only git: GIT_OPTIONAL_LOCKS=0 keeps `git status` from rewriting the index."""
    environment = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    return subprocess.run(
        ["git", "-C", str(repo), *arguments], check=True, capture_output=True, text=True, env=environment
    ).stdout


def json_events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def wave_branches(repo: Path) -> list[str]:
    return git(repo, "for-each-ref", "--format=%(refname)", "refs/heads/wave/").split()


def run_record(repo: Path, run_id: str) -> dict:
    return json.loads((repo / ".wave" / "runs" / run_id / "run.json").read_text())


def only_run_id(repo: Path) -> str:
    [folder] = [path for path in (repo / ".wave" / "runs").iterdir() if path.is_dir()]
    return folder.name


def name_status(repo: Path, old: str, new: str) -> list[str]:
    return git(repo, "diff", "--name-status", "--no-renames", old, new).splitlines()


def branch_paths(repo: Path, revision: str) -> list[str]:
    return git(repo, "ls-tree", "-r", "--name-only", revision).splitlines()


def git_metadata_files(repo: Path) -> dict[str, bytes]:
    """Every file of `.git` but the object store and the run branches' refs and reflogs."""
    git_dir = repo / ".git"
    return {
        str(path.relative_to(git_dir)): path.read_bytes()
        for path in sorted(git_dir.rglob("*"))
        if path.is_file() and path.relative_to(git_dir).parts[0] != "objects"
        and not re.search(r"refs/heads/wave(/|$)", path.relative_to(git_dir).as_posix())
    }


def repository_state(repo: Path) -> dict:
    """What a run must leave byte-identical: status, HEAD, index, working tree, .git (but objects)."""
    working_tree = {
        str(path.relative_to(repo)): path.read_bytes()
        for path in sorted(repo.rglob("*"))
        if (path.is_file() or path.is_symlink()) and not {".git", ".wave"} & set(path.relative_to(repo).parts)
    }
    metadata = git_metadata_files(repo)  # before any git command of ours
    return {
        "status": quiet_git(repo, "status", "--porcelain", "--untracked-files=all"),
        "head": quiet_git(repo, "rev-parse", "HEAD"),
        "index": metadata["index"],
        "working_tree": working_tree,
        "refs": quiet_git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
        "stash": quiet_git(repo, "stash", "list"),
        "git_metadata": metadata,
    }


def without_run_branches(refs: str) -> str:
    return "".join(line + "\n" for line in refs.splitlines() if " refs/heads/wave/" not in f" {line}")


def start_cli(*arguments: str, cwd: Path, env: dict | None = None) -> subprocess.Popen:
    """`run_cli` without waiting, so that independent runs of one module overlap."""
    from tests.integration.conftest import CLI

    return subprocess.Popen([str(CLI), *arguments], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})})


def finish_cli(process: subprocess.Popen, timeout: float = 240) -> subprocess.CompletedProcess:
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
