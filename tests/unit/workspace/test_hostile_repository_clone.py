"""A hostile repository cloned for a run: big enough (200 files) for git's parallel checkout to start its
workers, with filter drivers its own config and the user's global config define, `required`, an fsmonitor
and a checkout hook. Real git on real repositories; the clone must run none of them and check out every
file as committed.

The control clones the same repository with plain git and the same global config, and the planted driver
does run: the attack is live, and only the clone's hardening stops it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from wave_sandbox.workspace import repository
from wave_sandbox.workspace.clone import create_clone

FILES = 200
FILTERED = "files/00*.txt"
"""The planted attribute's files (10). Git gives the workers only files without a filter, and starts them
only past checkout.thresholdForParallelism (100) such files: the 190 others."""

DRIVERS = """\
[filter "evil"]
\tclean = touch {markers}/{where}-clean
\tsmudge = touch {markers}/{where}-smudge
\tprocess = touch {markers}/{where}-process
\trequired = true
[core]
\tfsmonitor = touch {markers}/{where}-fsmonitor
"""


def git(repo: Path, *arguments: str, home: Path, check: bool = True) -> None:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    environment.update(HOME=str(home), GIT_AUTHOR_NAME="T", GIT_AUTHOR_EMAIL="t@example.com",
                       GIT_COMMITTER_NAME="T", GIT_COMMITTER_EMAIL="t@example.com")
    subprocess.run(["git", "-C", str(repo), *arguments], env=environment, check=check, capture_output=True)


def hostile_repository(base: Path) -> tuple[Path, Path, Path]:
    """(repository, markers folder, home whose .gitconfig defines the drivers too)."""
    markers, home, repo = base / "markers", base / "home", base / "hostile"
    for folder in (markers, home, repo / "files"):
        folder.mkdir(parents=True)
    (home / ".gitconfig").write_text(DRIVERS.format(markers=markers, where="global"))
    clean_home = base / "clean-home"
    clean_home.mkdir()
    git(repo, "init", "-q", "-b", "main", home=clean_home)
    for number in range(FILES):
        (repo / "files" / f"{number:03}.txt").write_text(f"file {number}\n")
    git(repo, "add", "-A", home=clean_home)  # committed before the attributes: plain blobs
    (repo / ".gitattributes").write_text(f"{FILTERED} filter=evil\n")
    git(repo, "add", ".gitattributes", home=clean_home)
    git(repo, "commit", "-q", "-m", "hostile", home=clean_home)
    with (repo / ".git" / "config").open("a") as config:
        config.write(DRIVERS.format(markers=markers, where="repo") + "[checkout]\n\tworkers = 4\n")
    hook = repo / ".git" / "hooks" / "post-checkout"
    hook.write_text(f"#!/bin/sh\ntouch {markers}/repo-hook\n")
    hook.chmod(0o755)
    return repo, markers, home


def test_the_clone_runs_nothing_the_repository_or_the_users_config_plants(tmp_path, monkeypatch):
    repo, markers, home = hostile_repository(tmp_path)
    monkeypatch.setenv("HOME", str(home))
    trace = tmp_path / "trace2.json"  # git's own event trace, added to the hardened environment: it shows the workers
    hardened = repository.hardened_git_environment
    monkeypatch.setattr(repository, "hardened_git_environment", lambda: {**hardened(), "GIT_TRACE2_EVENT": str(trace)})
    clone = create_clone(repo, tmp_path / "runs" / "clone")
    assert "checkout--worker" in trace.read_text()  # the parallel path ran
    assert sorted(os.listdir(markers)) == []
    checked_out = sorted((clone.path / "files").iterdir())
    assert len(checked_out) == FILES
    assert all(path.read_text() == f"file {int(path.stem)}\n" for path in checked_out)


def test_plain_git_would_run_the_planted_driver(tmp_path):
    repo, markers, home = hostile_repository(tmp_path)
    git(tmp_path, "clone", "-q", str(repo), str(tmp_path / "plain"), home=home, check=False)  # the driver fails it
    assert {"global-smudge", "global-process"} & set(os.listdir(markers)), os.listdir(markers)
