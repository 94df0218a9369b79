"""An agent that attacks the host through git: hooks, config, attribute filters and nested
repositories planted in every `.git` it can reach, then files that must never reach the branch.

Each planted command would create its own marker file under the test's temp folder on the host; the
container cannot see that folder, so a marker can only appear if the host ran the command. The user's
global git config defines filter, diff and merge drivers (as git-lfs does) that the agent's
`.gitattributes` asks for, so host-side git that honoured the clone's attributes would run them too."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import git
from tests.integration.workspace.helpers import (
    assert_run_left_nothing,
    bash,
    branch_paths,
    edit_file,
    name_status,
    only_run_id,
    repository_state,
    run_record,
    finish_cli,
    say,
    start_cli,
    wave_branches,
    write_pipeline,
    craftsman_pipeline,
)

pytestmark = pytest.mark.docker

HOSTILE_PIPELINE = """\
kind: WavePipeline
metadata:
  name: hostile
steps:
  - id: scout
    persona: navigator
    workspace:
      mount:
        - source: ./
          target: /src
          mode: readonly
    exec:
      source: "Look around"
    output_artifacts:
      - name: scout
        path: output/scout.txt
  - id: plant
    persona: craftsman
    dependencies: [scout]
    workspace:
      mount:
        - source: ./
          target: /src
          mode: readwrite
    exec:
      source: "Fix the handler"
    output_artifacts:
      - name: attempts
        path: output/attempts.txt
"""

GLOBAL_DRIVERS = """\
[filter "evil"]
\tclean = touch {markers}/global-filter-clean
\tsmudge = touch {markers}/global-filter-smudge
\tprocess = touch {markers}/global-filter-process
[diff "evil"]
\ttextconv = touch {markers}/global-textconv
\tcommand = touch {markers}/global-diff-command
[merge "evil"]
\tdriver = touch {markers}/global-merge
"""

# `try NAME COMMAND...` logs each attempt with its exit status, so the test can check that it failed.
TRY = 'try() { name=$1; shift; echo "== $name"; "$@" 2>&1; echo "rc=$?"; }; '


def hook(markers: Path, name: str) -> str:
    return f"#!/bin/sh\ntouch {markers}/{name}\n"


def scout_command(markers: Path) -> str:
    """From a read-only step, the user's own `.git` is in reach: try its hooks and config."""
    return TRY + "exec > output/scout.txt; " + "; ".join([
        f"try user-pre-commit sh -c 'printf \"{hook(markers, 'user-pre-commit')}\" > /src/.git/hooks/pre-commit'",
        f"try user-post-commit sh -c 'printf \"{hook(markers, 'user-post-commit')}\" > /src/.git/hooks/post-commit'",
        f"try user-fsmonitor git -C /src config core.fsmonitor 'touch {markers}/user-fsmonitor'",
        "try user-hookspath git -C /src config core.hooksPath /tmp",
    ])


def plant_command(markers: Path) -> str:
    """From the read-write step: the clone's `.git`, a nested repository, attributes and configs."""
    nested_hooks = "; ".join(
        f"printf '{hook(markers, 'nested-' + name)}' > /src/sub/.git/hooks/{name}; chmod +x /src/sub/.git/hooks/{name}"
        for name in ("pre-commit", "post-commit", "post-checkout", "reference-transaction", "pre-auto-gc")
    )
    return TRY + "exec > output/attempts.txt; " + "; ".join([
        "try clone-hooks-folder mkdir -p /src/.git/hooks",
        f"try clone-pre-commit sh -c 'printf \"{hook(markers, 'clone-pre-commit')}\" > /src/.git/hooks/pre-commit'",
        f"try clone-post-commit sh -c 'printf \"{hook(markers, 'clone-post-commit')}\" > /src/.git/hooks/post-commit'",
        f"try clone-fsmonitor git -C /src config core.fsmonitor 'touch {markers}/clone-fsmonitor'",
        "try clone-hookspath git -C /src config core.hooksPath /src/sub/.git/hooks",
        f"try clone-filter git -C /src config filter.evil.clean 'touch {markers}/clone-filter'",
        f"try clone-textconv git -C /src config diff.evil.textconv 'touch {markers}/clone-textconv'",
        "try clone-info-attributes sh -c 'echo \"* filter=evil diff=evil\" > /src/.git/info/attributes'",
        f"try clone-config-append sh -c 'printf \"[core]\\n\\tfsmonitor = touch {markers}/clone-config\\n\" >> /src/.git/config'",
        "printf '* filter=evil diff=evil merge=evil\\n*.py ident\\n' > /src/.gitattributes",
        f"printf '[filter \"evil\"]\\n\\tclean = touch {markers}/tree-gitconfig-filter\\n"
        f"[diff \"evil\"]\\n\\ttextconv = touch {markers}/tree-gitconfig-textconv\\n"
        f"[core]\\n\\tfsmonitor = touch {markers}/tree-gitconfig-fsmonitor\\n' > /src/.gitconfig",
        "try nested-init git init -q /src/sub",
        nested_hooks,
        f"git -C /src/sub config core.fsmonitor 'touch {markers}/nested-fsmonitor'",
        f"git -C /src/sub config filter.evil.clean 'touch {markers}/nested-filter'",
        "echo data > /src/sub/file.txt",
        "mkdir -p /src/other && printf 'gitdir: /src/sub/.git\\n' > /src/other/.git",
        "ln -s sub/.git /src/gitdir-link",
        "ln -s .git/hooks /src/hooks-link",
        f"printf '[submodule \"sub\"]\\n\\tpath = sub\\n\\turl = ./sub\\n\\tupdate = !touch {markers}/submodule-update\\n'"
        " > /src/.gitmodules",
        "echo done",
    ])


def start_hostile_run(base: Path) -> dict:
    markers = base / "markers"
    markers.mkdir()
    home = base / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(GLOBAL_DRIVERS.format(markers=markers))
    repo = base / "service"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "app.py").write_text("def handler():\n    return 500\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    before = repository_state(repo)
    script = {"steps": {
        "scout": [[bash(scout_command(markers))], say("Scouted")],
        "plant": [[bash(plant_command(markers))],
                  [edit_file("/src/app.py", "return 500", "return 200")],
                  say("Planted")],
    }}
    pipeline, script_file = write_pipeline(base, HOSTILE_PIPELINE, script)
    process = start_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
                        "--output", str(base / "out"), "--json", cwd=base, env={"HOME": str(home)})
    return {"process": process, "repo": repo, "markers": markers, "home": home, "out": base / "out",
            "before": before, "pipeline": "hostile"}


REFUSAL_SCRIPT_COMMAND = "; ".join([
    "ln -s /etc/passwd /src/passwd",
    "mkdir -p /src/vendor/.git && printf '[core]\\n\\tbare = false\\n' > /src/vendor/.git/config",
    "head -c 11M /dev/zero > /src/big.bin",
    "mkdir -p /src/sub && ln -s .. /src/sub/up && ln -s up/../.. /src/sub/escape",
    "mkfifo /src/pipe",
    "echo written > output/done.txt",
])


def start_refusal_run(base: Path) -> dict:
    repo = base / "service"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "app.py").write_text("def handler():\n    return 500\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    head = git(repo, "rev-parse", "HEAD").strip()
    script = {"steps": {"fix": [
        [bash(REFUSAL_SCRIPT_COMMAND)],
        [edit_file("/src/app.py", "return 500", "return 200")],
        say("Fixed, with extras"),
    ]}}
    pipeline, script_file = write_pipeline(base, craftsman_pipeline("refusals", {"done": "output/done.txt"}), script)
    process = start_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
                        "--output", str(base / "out"), cwd=base)
    return {"process": process, "repo": repo, "head": head, "pipeline": "refusals"}


def finish_run(run: dict) -> dict:
    run["completed"] = finish_cli(run.pop("process"))
    run["run_id"] = only_run_id(run["repo"])
    run["branch"] = f"wave/{run['pipeline']}/{run['run_id']}"
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory, agent_image, docker):
    """The hostile run and the refusal run, at once."""
    hostile = start_hostile_run(tmp_path_factory.mktemp("hostile"))
    refusals = start_refusal_run(tmp_path_factory.mktemp("refusals"))
    return {"hostile": finish_run(hostile), "refusals": finish_run(refusals)}


@pytest.fixture(scope="module")
def hostile_run(runs):
    return runs["hostile"]


@pytest.fixture(scope="module")
def refusal_run(runs):
    return runs["refusals"]


def attempts(text: str) -> dict[str, str]:
    """`== NAME` ... `rc=N` blocks of the step's log, by name."""
    blocks = {}
    for block in text.split("== ")[1:]:
        name, _, rest = block.partition("\n")
        blocks[name] = rest
    return blocks


def test_the_hostile_run_completes_with_a_branch(hostile_run):
    assert hostile_run["completed"].returncode == 0, hostile_run["completed"].stderr
    assert wave_branches(hostile_run["repo"]) == [f"refs/heads/{hostile_run['branch']}"]


@pytest.mark.parametrize("name", ["user-pre-commit", "user-post-commit", "user-fsmonitor", "user-hookspath"])
def test_the_users_git_folder_is_read_only_in_a_read_only_step(hostile_run, name):
    result = attempts((hostile_run["out"] / "scout.txt").read_text())[name]
    assert "Read-only file system" in result and "rc=0" not in result


@pytest.mark.parametrize("name", [
    "clone-hooks-folder", "clone-pre-commit", "clone-post-commit", "clone-fsmonitor", "clone-hookspath",
    "clone-filter", "clone-textconv", "clone-info-attributes", "clone-config-append",
])
def test_the_clones_git_folder_is_read_only_in_the_read_write_step(hostile_run, name):
    result = attempts((hostile_run["out"] / "attempts.txt").read_text())[name]
    assert "rc=0" not in result
    # the clone was made with an empty template: writing into its missing hooks/ or info/ folder
    # fails for lack of the folder, creating that folder fails with EROFS, and its files are root's
    assert any(error in result for error in ("Read-only file system", "Directory nonexistent", "Permission denied"))


def test_the_agent_could_plant_its_nested_repository(hostile_run):
    """The attack was live: the nested repository with its hooks existed when the host committed."""
    log = (hostile_run["out"] / "attempts.txt").read_text()
    assert "rc=0" in attempts(log)["nested-init"] and log.rstrip().endswith("done")


def test_no_planted_command_ran_on_the_host(hostile_run):
    assert sorted(os.listdir(hostile_run["markers"])) == []


def test_hooks_and_git_metadata_never_reach_the_branch(hostile_run):
    paths = branch_paths(hostile_run["repo"], hostile_run["branch"])
    assert not [path for path in paths if ".git" in path.split("/") or "hooks" in path]
    assert not {"other/.git", "gitdir-link", "hooks-link"} & set(paths)


def test_the_hostile_data_went_through_host_side_git(hostile_run):
    """`.gitattributes`, `.gitconfig` and `.gitmodules` are only data: committed, never obeyed."""
    paths = set(branch_paths(hostile_run["repo"], hostile_run["branch"]))
    assert {".gitattributes", ".gitconfig", ".gitmodules", "sub/file.txt", "app.py"} <= paths
    assert git(hostile_run["repo"], "show", f"{hostile_run['branch']}:app.py") == "def handler():\n    return 200\n"


def test_each_git_metadata_refusal_is_in_the_run_record(hostile_run):
    refusals = run_record(hostile_run["repo"], hostile_run["run_id"])["steps"]["plant"]["refusals"]
    for path in ("sub/.git", "other/.git", "gitdir-link", "hooks-link"):
        assert any(f"'{path}'" in refusal for refusal in refusals), (path, refusals)


def test_the_users_repository_is_untouched(hostile_run):
    after = repository_state(hostile_run["repo"])
    for key in ("status", "head", "index", "working_tree", "git_metadata"):
        assert after[key] == hostile_run["before"][key], key


def test_the_markers_would_appear_if_git_obeyed_the_planted_attributes(hostile_run, tmp_path):
    """The marker mechanism works: plain git with the same global drivers, checking out the branch
    whose `.gitattributes` the agent wrote, runs one. (wave-sandbox never does this.)"""
    markers, home = tmp_path / "markers", tmp_path / "home"
    markers.mkdir()
    home.mkdir()
    (home / ".gitconfig").write_text(GLOBAL_DRIVERS.format(markers=markers))
    subprocess.run(
        ["git", "clone", "-q", "-b", hostile_run["branch"], str(hostile_run["repo"]), str(tmp_path / "victim")],
        check=False, capture_output=True, env={**os.environ, "HOME": str(home)},
    )
    assert sorted(os.listdir(markers))


def test_the_hostile_run_leaves_nothing(hostile_run, docker):
    assert_run_left_nothing(docker, hostile_run["run_id"])
    assert not (hostile_run["repo"] / ".wave" / "runs" / hostile_run["run_id"] / "clone").exists()


REFUSED = {
    "passwd": "leaves the tree",
    "vendor/.git": ".git",
    "big.bin": "over the 10485760-byte limit",
    "sub/escape": "leaves the tree",
    "pipe": "not a regular file",
}


def test_only_the_legit_changes_reach_the_branch(refusal_run):
    assert refusal_run["completed"].returncode == 0, refusal_run["completed"].stderr
    assert name_status(refusal_run["repo"], refusal_run["head"], refusal_run["branch"]) == ["M\tapp.py", "A\tsub/up"]


@pytest.mark.parametrize("path", sorted(REFUSED))
def test_each_refusal_is_listed_on_the_step_record(refusal_run, path):
    refusals = run_record(refusal_run["repo"], refusal_run["run_id"])["steps"]["fix"]["refusals"]
    [line] = [refusal for refusal in refusals if f"'{path}'" in refusal]
    assert REFUSED[path] in line


def test_each_refusal_is_a_warning_on_stderr(refusal_run):
    warnings = [line for line in refusal_run["completed"].stderr.splitlines() if line.startswith("warning: not committed:")]
    assert sorted(line.split("'")[1] for line in warnings) == sorted(REFUSED)


def test_the_console_counts_only_committed_files(refusal_run):
    last = refusal_run["completed"].stdout.splitlines()[-1]
    assert last == f"Branch: {refusal_run['branch']} (1 commit, 2 files changed)"


def test_the_refusal_run_leaves_nothing(refusal_run, docker):
    assert_run_left_nothing(docker, refusal_run["run_id"])
