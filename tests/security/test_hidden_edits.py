"""An agent hides its edits from a stat-based "unchanged" check: same length, mtime put back, a file
swapped for another inode with the old times. The commit trusts the clone's index only where the stat
(ctime included, which no process in the container can choose) is untouched, so both edits still
reach the review branch (real daemon, real git; issue 10, item 4)."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import git
from tests.integration.scripted_runs import bash, say, write_pipeline
from tests.integration.workspace.helpers import craftsman_pipeline, finish_cli, only_run_id, start_cli

pytestmark = pytest.mark.docker

ORIGINAL_APP = "def handler():\n    return 500\n"
HIDDEN_APP = "def handler():\n    return 666\n"  # the same length
ORIGINAL_UTIL = "LIMIT = 10\n"
SWAPPED_UTIL = "LIMIT = 99\n"
HIDE = f"""python3 - <<'EOF'
import json, os
def seen(path):
    info = os.stat(path)
    return {{"size": info.st_size, "mtime_ns": info.st_mtime_ns, "ctime_ns": info.st_ctime_ns, "ino": info.st_ino}}
report = {{"before": {{}}, "after": {{}}}}
for name in ("app.py", "util.py"):
    report["before"][name] = seen("/src/" + name)
old = os.stat("/src/app.py")
with open("/src/app.py", "r+") as stream:
    stream.write({HIDDEN_APP!r})
os.utime("/src/app.py", ns=(old.st_atime_ns, old.st_mtime_ns))
old = os.stat("/src/util.py")
with open("/src/util.tmp", "w") as stream:
    stream.write({SWAPPED_UTIL!r})
os.utime("/src/util.tmp", ns=(old.st_atime_ns, old.st_mtime_ns))
os.replace("/src/util.tmp", "/src/util.py")
for name in ("app.py", "util.py"):
    report["after"][name] = seen("/src/" + name)
os.makedirs("output", exist_ok=True)
open("output/stat.json", "w").write(json.dumps(report))
EOF"""


@pytest.fixture(scope="module")
def hidden_run(tmp_path_factory, agent_image, docker):
    base = tmp_path_factory.mktemp("hidden")
    repo = base / "service"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "app.py").write_text(ORIGINAL_APP)
    (repo / "util.py").write_text(ORIGINAL_UTIL)
    (repo / "README.md").write_text("# service\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Initial service")
    script = {"steps": {"fix": [[bash(HIDE)], say("Nothing to see")]}}
    pipeline, script_file = write_pipeline(base, craftsman_pipeline("hidden", {"stat": "output/stat.json"}), script)
    completed = finish_cli(start_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
                                     "--output", "out", cwd=base))
    run_id = only_run_id(repo)
    return {"completed": completed, "repo": repo, "branch": f"wave/hidden/{run_id}",
            "stat": json.loads((base / "out" / "stat.json").read_text())}


def test_the_edits_kept_size_and_mtime_but_not_ctime(hidden_run):
    """The payload reached the clone: from inside, the files look untouched but for their ctime."""
    assert hidden_run["completed"].returncode == 0, hidden_run["completed"].stderr
    before, after = hidden_run["stat"]["before"], hidden_run["stat"]["after"]
    for name in ("app.py", "util.py"):
        assert (after[name]["size"], after[name]["mtime_ns"]) == (before[name]["size"], before[name]["mtime_ns"])
        assert after[name]["ctime_ns"] != before[name]["ctime_ns"]
    assert after["app.py"]["ino"] == before["app.py"]["ino"]


def test_both_hidden_edits_reach_the_review_branch(hidden_run):
    repo, branch = hidden_run["repo"], hidden_run["branch"]
    assert git(repo, "show", f"{branch}:app.py") == HIDDEN_APP
    assert git(repo, "show", f"{branch}:util.py") == SWAPPED_UTIL
    changed = git(repo, "diff", "--name-only", "main", branch).split()
    assert changed == ["app.py", "util.py"]
