"""Wave's workspaces and command steps end to end (issue 11, items 6 and 8), on a repository in the
shape of a Wave project: real daemon, real containers, real git, the scripted model over real HTTP.

Two attacks, each shown to reach its target and to be refused: a command step tries the run's real
gateway socket (whose path the agent step of the same run read from its agent process's environment and
reached with the same probe) and looks for a token; an agent's file list for subset_from names a path outside the
repository, an absolute path, a committed symlink to /etc/passwd, .git/config, a secret and the run records.

One run of four steps:
- produce (navigator): writes a file list for subset_from (with hostile entries) and its gateway socket's
  path, and reaches the gateway through it;
- check (type: command): proves from inside that it has no network, no gateway socket (not at the path the
  agent used, no /run/wave-sandbox) and no gateway token, reads its dependency through WAVE_DEP_*, uses jq and sqlite3;
- review (auditor): sees only the subset's files at /src, and the injected report at .agents/artifacts/report;
- fix (craftsman, workspace.type: worktree): edits the clone and drops junk in its .agents/output, which
  must not reach the review branch.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.integration.conftest import git, run_cli
from tests.integration.scripted_runs import bash, edit_file, say, write_file, write_pipeline

pytestmark = pytest.mark.docker

# Connects to the Unix socket at argv[1] and posts a request with the token argv[2] (none when absent).
SOCKET_PROBE = """\
import socket, sys
path, token = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "")
connection = socket.socket(socket.AF_UNIX)
connection.settimeout(10)
try:
    connection.connect(path)
    connection.sendall(b"POST /v1/messages HTTP/1.1\\r\\nHost: gateway\\r\\ncontent-type: application/json\\r\\n"
                       b"x-api-key: " + token.encode() + b"\\r\\nContent-Length: 2\\r\\n\\r\\n[]")
    print("GATEWAY-REACHED", connection.recv(200).split(b"\\r\\n")[0].decode())
except OSError as error:
    print("GATEWAY-UNREACHABLE", type(error).__name__, error)
"""
HOSTILE_LIST = ["app.py", "lib/util.py", "../outside.txt", "/etc/hostname", "link.py", ".git/config", ".env",
                "missing.py", ".wave/runs/x"]

PIPELINE = """\
kind: WavePipeline
metadata:
  name: wave-shape
steps:
  - id: produce
    persona: navigator
    exec: {type: prompt, source: "List files for {{ input }}"}
    output_artifacts:
      - {name: list, path: .agents/output/list.json, type: json}
      - {name: report, path: .agents/output/report.md, type: markdown}
      - {name: gateway, path: .agents/output/gateway.txt}
      - {name: reached, path: .agents/output/reached.txt}
  - id: check
    type: command
    dependencies: [produce]
    workspace:
      mount:
        - {source: ./, target: /project, mode: readonly}
    script: |
      env | sort > .agents/output/env.txt
      cat /proc/net/dev > .agents/output/net.txt
      python3 - "$(cat .agents/artifacts/produce/gateway.txt)" >> .agents/output/net.txt 2>&1 <<'PROBE'
@PROBE@
      PROBE
      ls -d /run/wave-sandbox >> .agents/output/net.txt 2>&1 || echo NO-SOCKET-FOLDER >> .agents/output/net.txt
      jq -r '.files[0]' "$WAVE_DEP_PRODUCE_LIST" > .agents/output/first.txt
      sqlite3 :memory: 'select 6*7' >> .agents/output/first.txt
      echo "checked"
    output_artifacts:
      - {name: env, path: .agents/output/env.txt}
      - {name: net, path: .agents/output/net.txt}
      - {name: first, path: .agents/output/first.txt}
    handover:
      contract: {type: non_empty_file, source: .agents/output/first.txt}
  - id: in-project
    type: command
    dependencies: [check]
    workspace:
      mount:
        - {source: ./, target: /project, mode: readonly}
    script: |
      test -f app.py && test ! -e .agents/artifacts
      if touch written-by-command 2>/dev/null; then echo "wrote into the read-only mount"; exit 1; fi
      echo "ran in $(pwd), read-only"
  - id: review
    persona: auditor
    dependencies: [check]
    memory:
      inject_artifacts:
        - {step: produce, artifact: report, as: report}
    workspace:
      mount:
        - {source: ./, target: /src, mode: readonly, subset_from: produce.list.files}
    exec: {source: "Review"}
    output_artifacts:
      - {name: seen, path: .agents/output/seen.txt}
  - id: fix
    persona: craftsman
    dependencies: [review]
    workspace:
      type: worktree
      branch: "{{ pipeline_id }}"
      base: main
    exec: {source: "Fix"}
    output_artifacts:
      - {name: fix, path: .agents/output/fix.md, type: markdown}
"""

PIPELINE = PIPELINE.replace("@PROBE@", "\n".join("      " + line for line in SOCKET_PROBE.splitlines()))

SCRIPT = {"steps": {
    "produce": [
        [write_file(".agents/output/list.json", json.dumps({"files": HOSTILE_LIST})),
         write_file(".agents/output/report.md", "# Report\n\nreport-body-marker\n"),
         # the agent's tools do not see the token's variables; its parent, the agent, does
         bash("SOCK=$(tr '\\0' '\\n' < /proc/$PPID/environ | sed -n 's/^WAVE_SANDBOX_GATEWAY_SOCKET=//p'); "
              "KEY=$(tr '\\0' '\\n' < /proc/$PPID/environ | sed -n 's/^ANTHROPIC_API_KEY=//p'); "
              "printf %s \"$SOCK\" > .agents/output/gateway.txt; "
              f"python3 - \"$SOCK\" \"$KEY\" > .agents/output/reached.txt 2>&1 <<'PROBE'\n{SOCKET_PROBE}PROBE")],
        say("Listed"),
    ],
    "review": [
        [bash("(find /src -type f -o -type l | sort; echo ---; cat .agents/artifacts/report; "
              "ls .agents/artifacts/produce .agents/output) > .agents/output/seen.txt")],
        say("Reviewed"),
    ],
    "fix": [
        [edit_file("/src/app.py", "return 500", "return 200"),
         bash("mkdir -p /src/.agents/output && echo junk > /src/.agents/output/junk.txt"),
         write_file(".agents/output/fix.md", "# Fix\n\nReturn 200.\n")],
        say("Fixed the handler"),
    ],
}}


@pytest.fixture(scope="module")
def wave_run(tmp_path_factory, agent_image, docker):
    base = tmp_path_factory.mktemp("wave-shape")
    repo = base / "service"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "app.py").write_text("def handler():\n    return 500\n")
    (repo / "lib").mkdir()
    (repo / "lib" / "util.py").write_text("X = 1\n")
    (repo / ".env").write_text("TOKEN=do-not-show\n")
    (base / "outside.txt").write_text("outside-marker\n")
    os.symlink("/etc/passwd", repo / "link.py")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    pipeline, script = write_pipeline(base, PIPELINE, SCRIPT)
    completed = run_cli("run", str(pipeline), "orders", "--repo", str(repo), "--model", f"scripted:{script}",
                        "--output", str(base / "out"), "--json", cwd=base)
    events = [json.loads(line) for line in completed.stdout.splitlines()]
    run_id = events[0]["run_id"]
    return {"completed": completed, "events": events, "record": repo / ".wave" / "runs" / run_id,
            "repo": repo, "run_id": run_id, "out": base / "out"}


def artifact(wave_run, step: str, name: str) -> str:
    return (wave_run["record"] / "steps" / step / "artifacts" / name).read_text()


def test_the_run_completes(wave_run):
    assert wave_run["completed"].returncode == 0, wave_run["completed"].stderr


def test_a_command_step_has_no_network_no_gateway_socket_and_no_token(wave_run):
    socket_path = artifact(wave_run, "produce", "gateway.txt")
    assert socket_path == "/run/wave-sandbox/gateway.sock"
    # The control: the agent step reached its gateway through that path with the same probe.
    reached = artifact(wave_run, "produce", "reached.txt")
    assert reached.startswith("GATEWAY-REACHED HTTP/1.1 4") and " 401 " not in reached, reached  # its token was taken
    net = artifact(wave_run, "check", "net.txt")
    interfaces = [line.split(":")[0].strip() for line in net.splitlines() if ":" in line and "|" not in line]
    assert [name for name in interfaces if not name.startswith(("GATEWAY", "ls"))] == ["lo"], net
    assert "GATEWAY-UNREACHABLE FileNotFoundError" in net and "GATEWAY-REACHED" not in net, net
    assert "NO-SOCKET-FOLDER" in net, net
    env = artifact(wave_run, "check", "env.txt")
    assert "ANTHROPIC" not in env and "WAVE_SANDBOX_GATEWAY_SOCKET" not in env
    assert "WAVE_DEP_PRODUCE_LIST=/workspace/.agents/artifacts/produce/list.json" in env
    assert "WAVE_DEPS_DIR=/workspace/.agents/artifacts" in env


def test_a_command_step_reads_its_dependency_with_jq_and_has_sqlite3(wave_run):
    assert artifact(wave_run, "check", "first.txt") == "app.py\n42\n"
    completed = [e for e in wave_run["events"] if e["state"] == "completed" and e["step_id"] == "check"]
    assert completed and completed[0]["persona"] == "command" and completed[0]["message"] == "checked"


def test_a_command_step_without_artifacts_runs_in_its_read_only_project_mount(wave_run):
    # Wave runs a command step in its ./ mount (resolveCommandWorkDir); the mount stays read-only
    event = [e for e in wave_run["events"] if e.get("step_id") == "in-project" and e["state"] == "completed"]
    assert event and event[0]["message"] == "ran in /project, read-only", wave_run["events"]
    assert not (wave_run["repo"] / "written-by-command").exists()


def test_subset_from_copies_only_the_acceptable_listed_files(wave_run):
    seen = artifact(wave_run, "review", "seen.txt")
    listed = seen.split("---")[0].split()
    assert listed == ["/src/app.py", "/src/lib/util.py"], seen
    stderr = wave_run["completed"].stderr
    for entry, reason in [("../outside.txt", "holds '..'"), ("/etc/hostname", "not a path relative"),
                          ("link.py", "is or passes through a symbolic link"), (".git/config", "lies in .git or .wave/runs"),
                          (".env", "matches a secret mask"), (".wave/runs/x", "lies in .git or .wave/runs")]:
        assert f"'{entry}' refused: {reason}" in stderr, (entry, stderr)
    assert "missing.py" not in stderr  # a missing entry is skipped quietly, as Wave skips it


def test_injected_and_dependency_artifacts_are_at_wave_locations(wave_run):
    seen = artifact(wave_run, "review", "seen.txt")
    assert "report-body-marker" in seen  # .agents/artifacts/report


def test_a_worktree_step_commits_to_the_review_branch_without_agents_output(wave_run):
    repo, run_id = wave_run["repo"], wave_run["run_id"]
    branch = f"wave/wave-shape/{run_id}"
    changed = git(repo, "diff", "--name-only", "main", branch).split()
    assert changed == ["app.py"]
    assert "return 200" in git(repo, "show", f"{branch}:app.py")
    record = json.loads((wave_run["record"] / "run.json").read_text())
    worktree = record["steps"]["fix"]["worktree"]
    assert worktree["branch"] == run_id and worktree["base"] == "main" and worktree["review_branch"] == branch


def test_the_subset_copy_does_not_outlive_its_step(wave_run):
    assert not (wave_run["record"] / "subsets" / "review").exists()
