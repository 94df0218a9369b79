"""`wave-sandbox run` end to end: real daemon, real containers, real git, scripted model over real HTTP."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.integration.conftest import CLI, assert_run_left_nothing, git, run_cli, run_ids_in
from tests.integration.scripted_runs import bash, one_commit_repository, write_pipeline

pytestmark = pytest.mark.docker

PROBE_PIPELINE = """\
kind: WavePipeline
metadata:
  name: probes
steps:
  - id: reader
    persona: navigator
    workspace:
      mount:
        - source: ./
          target: /src
          mode: readonly
    exec:
      source: "Probe the sandbox for {{ input }}"
    output_artifacts:
      - name: probe
        path: output/reader.txt
      - name: token
        path: output/token.txt
  - id: nomount
    persona: philosopher
    dependencies: [reader]
    memory:
      inject_artifacts:
        - step: reader
          artifact: probe
          as: probe
        - step: reader
          artifact: token
          as: stolen
    exec:
      source: "Probe without mounts"
    output_artifacts:
      - name: nomount
        path: output/nomount.txt
  - id: para-a
    persona: summarizer
    exec:
      source: "wait a"
  - id: para-b
    persona: summarizer
    exec:
      source: "wait b"
  - id: command
    type: command
    script: >-
      { echo ---net; ls /sys/class/net; test -e /run/wave-sandbox && echo gateway=mounted || echo gateway=absent;
      echo ---env; env | cut -d= -f1 | sort; } > output/command.txt
    output_artifacts:
      - name: command
        path: output/command.txt
"""

# A request to the gateway as the agent makes it, through the socket: arguments are the token and the socket.
CALL_GATEWAY = (
    "python3 -c \"import sys,json,socket,http.client;"
    "body=json.dumps({'model':'scripted','max_tokens':10,'messages':[{'role':'user','content':'hi'}]});"
    "c=http.client.HTTPConnection('wave-sandbox-gateway',timeout=10);"
    "s=socket.socket(socket.AF_UNIX);s.settimeout(10);s.connect(sys.argv[2]);c.sock=s;"
    "c.request('POST','/v1/messages',body,"
    "{'x-api-key':sys.argv[1],'content-type':'application/json','anthropic-version':'2023-06-01'});"
    "print(c.getresponse().status)\" "
)


PROBE_SCRIPT = {
    "steps": {
        "reader": [
            [bash(
                "{ touch /src/planted 2>&1; echo write_rc=$?; echo ---env; env | cut -d= -f1 | sort; "
                "echo ---id; id -u; echo ---attached; cat /wave/attachments/incident.log; "
                "echo ---net; ls /sys/class/net; echo ---gateway; ls /run/wave-sandbox 2>&1; "
                "touch /run/wave-sandbox/planted 2>&1; echo ---end; } > output/reader.txt; "
                # the bash tool withholds the agent's variables; an attacker reads them from its parent
                "tr '\\0' '\\n' < /proc/$PPID/environ | sed -n 's/^ANTHROPIC_API_KEY=//p' > output/token.txt"
            )],
            [{"type": "text", "text": "Probed reader\nmore text"}],
        ],
        "nomount": [
            [bash(
                "{ test -e /src && echo src=present || echo src=absent; "
                "test -e /wave/attachments && echo attachments=present || echo attachments=absent; "
                "echo first=$(head -1 /wave/artifacts/probe); "
                "echo x >> /wave/artifacts/probe 2>/dev/null; echo inject_write_rc=$?; "
                "own_env=$(tr '\\0' '\\n' < /proc/$PPID/environ); "
                "sock=$(echo \"$own_env\" | sed -n 's/^WAVE_SANDBOX_GATEWAY_SOCKET=//p'); "
                "own=$(echo \"$own_env\" | sed -n 's/^ANTHROPIC_API_KEY=//p'); "
                f"echo stolen=$({CALL_GATEWAY} \"$(cat /wave/artifacts/stolen)\" \"$sock\"); "
                f"echo own=$({CALL_GATEWAY} \"$own\" \"$sock\"); "
                "} > output/nomount.txt"
            )],
            [{"type": "text", "text": "Probed nomount"}],
        ],
        "para-a": [{"delay_s": 2, "content": [{"type": "text", "text": "A done"}]}],
        "para-b": [{"delay_s": 2, "content": [{"type": "text", "text": "B done"}]}],
    }
}


def repository_snapshot(repo: Path) -> dict:
    files = {
        str(path.relative_to(repo)): path.read_bytes()
        for path in sorted(repo.rglob("*"))
        if path.is_file() and ".wave" not in path.parts and ".git" not in path.parts
    }
    return {
        "status": git(repo, "status", "--porcelain"),
        "head": git(repo, "rev-parse", "HEAD"),
        "index": (repo / ".git" / "index").read_bytes(),
        "files": files,
    }


@pytest.fixture(scope="module")
def probe_run(tmp_path_factory, agent_image, docker):
    base = tmp_path_factory.mktemp("probes")
    repo = one_commit_repository(base / "service")
    before = repository_snapshot(repo)
    pipeline, script = write_pipeline(base, PROBE_PIPELINE, PROBE_SCRIPT)
    attachment = base / "incident.log"
    attachment.write_text("2026-02-04T14:30:05Z ERROR PoolTimeout\n")
    completed = run_cli(
        "run", str(pipeline), "the probe input", "--repo", str(repo), "--model", f"scripted:{script}",
        "--attach", str(attachment),
        "--output", str(base / "out"), "--json", "--max-parallel", "4", cwd=base, env={"WAVE_TEST_HOST_MARKER": "marker-7f3a"},
    )
    events = [json.loads(line) for line in completed.stdout.splitlines()]
    return {"completed": completed, "events": events, "repo": repo, "out": base / "out", "before": before}


def read_artifact(probe_run, name: str) -> str:
    return (probe_run["out"] / name).read_text()


def test_probe_run_succeeds_with_json_events(probe_run):
    completed = probe_run["completed"]
    assert completed.returncode == 0, completed.stderr
    states = [(e["state"], e["step_id"]) for e in probe_run["events"]]
    assert states[0] == ("run_started", None)
    assert states[-1] == ("run_completed", None)
    assert ("completed", "reader") in states and ("completed", "nomount") in states
    reader_done = next(e for e in probe_run["events"] if e["state"] == "completed" and e["step_id"] == "reader")
    assert reader_done["message"] == "Probed reader"
    assert reader_done["tokens_in"] > 0 and reader_done["tokens_out"] > 0


def test_write_to_readonly_src_fails_and_host_repo_is_unchanged(probe_run):
    probe = read_artifact(probe_run, "reader.txt")
    assert "Read-only file system" in probe
    assert "write_rc=1" in probe
    assert not (probe_run["repo"] / "planted").exists()
    assert repository_snapshot(probe_run["repo"]) == probe_run["before"]


def test_step_without_mounts_has_no_src(probe_run):
    assert "src=absent" in read_artifact(probe_run, "nomount.txt")


def test_injected_artifact_is_readable_and_not_writable(probe_run):
    text = read_artifact(probe_run, "nomount.txt")
    assert "first=touch: cannot touch '/src/planted': Read-only file system" in text
    assert "inject_write_rc=1" in text


def test_artifacts_reach_output_and_run_record(probe_run):
    run_id = probe_run["events"][0]["run_id"]
    record = probe_run["repo"] / ".wave" / "runs" / run_id
    assert (record / "steps" / "reader" / "artifacts" / "reader.txt").read_text() == read_artifact(probe_run, "reader.txt")
    assert (record / "steps" / "nomount" / "artifacts" / "nomount.txt").is_file()
    run = json.loads((record / "run.json").read_text())
    assert run["status"] == "completed"
    assert run["steps"]["reader"]["status"] == "completed"
    transcript = (record / "steps" / "reader" / "transcript.jsonl").read_text().splitlines()
    assert len(transcript) == 2


def test_attachments_reach_steps_with_a_workspace_mount_only(probe_run):
    assert "---attached\n2026-02-04T14:30:05Z ERROR PoolTimeout" in read_artifact(probe_run, "reader.txt")
    assert "attachments=absent" in read_artifact(probe_run, "nomount.txt")
    run_id = probe_run["events"][0]["run_id"]
    step_file = probe_run["repo"] / ".wave" / "runs" / run_id / "steps" / "reader" / "step.json"
    assert "/wave/attachments/incident.log" in json.loads(step_file.read_text())["prompt"]


def test_container_environment_holds_no_host_variable(probe_run):
    probe = read_artifact(probe_run, "reader.txt")
    names = probe.split("---env\n")[1].split("---id")[0].split()
    assert "WAVE_TEST_HOST_MARKER" not in names
    assert set(names) <= {"ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "HOME", "PATH", "HOSTNAME", "PWD", "SHLVL",
                          "_", "OLDPWD", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "LANG", "LC_ALL",
                          "WAVE_SANDBOX_GATEWAY_SOCKET"}
    assert "WAVE_SANDBOX_GATEWAY_SOCKET" in names  # the bash tool withholds ANTHROPIC_* only
    assert "marker-7f3a" not in probe


def test_an_agent_step_has_loopback_only_and_its_gateway_folder_read_only_and_unlisted(probe_run):
    probe = read_artifact(probe_run, "reader.txt")
    assert probe.split("---net\n")[1].split("---gateway")[0].split() == ["lo"]
    gateway_folder = probe.split("---gateway\n")[1].split("---end")[0]
    assert "touch: cannot touch '/run/wave-sandbox/planted': Read-only file system" in gateway_folder
    if os.geteuid() == 0:  # the folder is root's, 0711; the steps' user passes through it, lists nothing
        assert "ls: cannot open directory '/run/wave-sandbox': Permission denied" in gateway_folder


def test_a_command_step_has_no_network_and_no_gateway(probe_run):
    probe = read_artifact(probe_run, "command.txt")
    assert probe.split("---net\n")[1].split()[:2] == ["lo", "gateway=absent"]
    names = probe.split("---env\n")[1].split()
    assert not {"ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "WAVE_SANDBOX_GATEWAY_SOCKET"} & set(names), names


def test_step_token_works_only_for_its_own_step(probe_run):
    text = read_artifact(probe_run, "nomount.txt")
    assert "stolen=401" in text  # reader's token, replayed by a later step
    assert "own=200" in text


def test_independent_steps_overlap_in_time(probe_run):
    events = probe_run["events"]
    def moment(state, step):
        return next(e["timestamp"] for e in events if e["state"] == state and e["step_id"] == step)
    assert moment("started", "para-b") < moment("completed", "para-a")
    assert moment("started", "para-a") < moment("completed", "para-b")


def test_probe_run_leaves_no_docker_objects(probe_run, docker):
    assert_run_left_nothing(docker, *run_ids_in(probe_run["repo"]))


FAILING_PIPELINE = """\
kind: WavePipeline
metadata:
  name: failing
steps:
  - id: badjson
    persona: navigator
    exec:
      source: "write bad json"
    output_artifacts:
      - name: data
        path: output/data.json
        type: json
      - name: notes
        path: output/notes.md
  - id: after-badjson
    persona: summarizer
    dependencies: [badjson]
    exec:
      source: "never runs"
  - id: missing
    persona: navigator
    exec:
      source: "write nothing"
    output_artifacts:
      - name: report
        path: output/report.md
  - id: after-missing
    persona: summarizer
    dependencies: [missing]
    exec:
      source: "never runs"
"""

FAILING_SCRIPT = {
    "steps": {
        "badjson": [
            [{"type": "tool_use", "name": "write_file", "input": {"path": "output/data.json", "content": "{not json"}},
             {"type": "tool_use", "name": "write_file", "input": {"path": "output/notes.md", "content": "# kept\n"}}],
            [{"type": "text", "text": "Wrote it"}],
        ],
        "missing": [[{"type": "text", "text": "Forgot to write"}]],
    }
}


def test_missing_or_invalid_json_artifact_fails_step_and_skips_dependents(tmp_path, repo, agent_image, docker):
    pipeline, script = write_pipeline(tmp_path, FAILING_PIPELINE, FAILING_SCRIPT)
    completed = run_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script}",
                        "--output", str(tmp_path / "out"), "--json", cwd=tmp_path)
    assert completed.returncode == 1, completed.stderr
    events = {(e["state"], e["step_id"]): e for e in map(json.loads, completed.stdout.splitlines())}
    assert "not valid JSON" in events[("failed", "badjson")]["message"]
    assert "was not written" in events[("failed", "missing")]["message"]
    assert ("skipped", "after-badjson") in events and ("skipped", "after-missing") in events
    assert (tmp_path / "out" / "notes.md").read_text() == "# kept\n"  # the valid artifact is still collected
    assert not (tmp_path / "out" / "data.json").exists()
    assert events[("run_failed", None)]["message"].startswith("step badjson failed")
    assert_run_left_nothing(docker, *run_ids_in(repo))


def test_a_tmpdir_too_deep_for_the_gateways_socket_fails_the_run_in_one_line_and_leaves_nothing(tmp_path, repo, docker):
    """The gateway's socket lives in the temporary folder, and a socket's path holds 107 bytes at most."""
    deep = Path(tempfile.mkdtemp(prefix="wsdeep-"))
    try:
        (deep / ("d" * 90)).mkdir()
        pipeline, script = write_pipeline(tmp_path, TIMEOUT_PIPELINE, {"steps": {}})
        completed = run_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script}",
                            "--output", str(tmp_path / "out"), cwd=tmp_path, env={"TMPDIR": str(deep / ("d" * 90))})
        left = sorted(path.name for path in (deep / ("d" * 90)).glob("wave-sandbox-gateway-*"))
    finally:
        shutil.rmtree(deep, ignore_errors=True)
    assert completed.returncode != 0 and "Traceback" not in completed.stderr, completed.stderr
    said = [line for line in (completed.stdout + completed.stderr).splitlines() if "TMPDIR" in line]
    assert len(said) == 1 and "longer than a Unix socket allows (107 bytes); set TMPDIR to a shorter folder" in said[0]
    assert left == [], "the socket folder that could not be used was left behind"
    (run_id,) = run_ids_in(repo)
    assert json.loads((repo / ".wave" / "runs" / run_id / "run.json").read_text())["status"] == "failed"
    assert_run_left_nothing(docker, run_id)


TIMEOUT_PIPELINE = """\
kind: WavePipeline
metadata:
  name: slow
steps:
  - id: sleeper
    persona: navigator
    exec:
      source: "sleep"
"""


def test_step_past_its_timeout_is_killed(tmp_path, repo, agent_image, docker):
    script = {"steps": {"sleeper": [[bash("sleep 300")], [{"type": "text", "text": "never"}]]}}
    pipeline, script_file = write_pipeline(tmp_path, TIMEOUT_PIPELINE, script)
    started = time.monotonic()
    completed = run_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
                        "--step-timeout", "6", cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert completed.returncode == 1
    assert "timed out after 6s" in completed.stdout
    assert elapsed < 40
    assert_run_left_nothing(docker, *run_ids_in(repo))


INTERRUPT_PIPELINE = """\
kind: WavePipeline
metadata:
  name: interrupted
steps:
  - id: first
    persona: navigator
    exec:
      source: "quick"
    output_artifacts:
      - name: first
        path: output/first.md
  - id: second
    persona: navigator
    dependencies: [first]
    exec:
      source: "slow"
"""


def test_ctrl_c_stops_the_run_keeps_finished_artifacts_and_removes_everything(tmp_path, repo, agent_image, docker):
    script = {"steps": {
        "first": [[{"type": "tool_use", "name": "write_file", "input": {"path": "output/first.md", "content": "done\n"}}],
                  [{"type": "text", "text": "First done"}]],
        "second": [[bash("sleep 120")], [{"type": "text", "text": "never"}]],
    }}
    pipeline, script_file = write_pipeline(tmp_path, INTERRUPT_PIPELINE, script)
    process = subprocess.Popen(
        [str(CLI), "run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
         "--output", str(tmp_path / "out")],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        for line in process.stdout:
            if line.split()[1:3] == ["started", "second"]:
                break
        time.sleep(3)  # let the agent of `second` get going inside its container
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert (tmp_path / "out" / "first.md").read_text() == "done\n"
    assert "Pipeline interrupted interrupted after " in stdout  # reported once, as interrupted
    assert "Error:" not in stderr and stderr.rstrip().splitlines()[-1].startswith("Resume with: wave-sandbox resume ")
    assert_run_left_nothing(docker, *run_ids_in(repo))
