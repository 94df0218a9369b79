"""`--runtime`: steps run under the chosen runtime, the run records it, resume reuses it, a bad choice is refused.

Which kernel a step saw is read from inside: gVisor's Sentry answers `/proc/version` with its own
fixed text and `dmesg` with its boot messages, neither of which the host's kernel gives.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import run_cli
from tests.integration.scripted_runs import bash, one_commit_repository, say, write_pipeline
from wave_sandbox.sandbox.runtimes import engine_runtimes

pytestmark = pytest.mark.docker

PIPELINE = """kind: WavePipeline
metadata: {name: kernels}
steps:
  - id: first
    persona: navigator
    exec: {source: "which kernel"}
    output_artifacts: [{name: kernel, path: output/kernel.txt}]
  - id: second
    persona: navigator
    dependencies: [first]
    exec: {source: "which kernel again"}
    output_artifacts: [{name: again, path: output/again.txt}]
"""
SAY_KERNEL = "(cat /proc/version; dmesg 2>/dev/null | head -3) > output/NAME"


def script(second_writes: bool) -> dict:
    second = [[bash(SAY_KERNEL.replace("NAME", "again.txt"))]] if second_writes else []
    return {"steps": {"first": [[bash(SAY_KERNEL.replace("NAME", "kernel.txt"))], say("Kernel noted")],
                      "second": second + [say("Second done")]}}  # fmt: skip


@pytest.fixture
def needs_runsc(docker):
    if "runsc" not in engine_runtimes(docker):
        pytest.skip("the Docker engine has no runsc runtime (.ci/run installs and registers it)")


def record_of(repo, run_id: str) -> dict:
    return json.loads((repo / ".wave" / "runs" / run_id / "run.json").read_text())


@pytest.mark.runsc
def test_a_run_under_runsc_records_it_and_its_resume_runs_under_runsc_again(tmp_path, agent_image, needs_runsc):
    repo = one_commit_repository(tmp_path / "service")
    pipeline, script_file = write_pipeline(tmp_path, PIPELINE, script(second_writes=False))
    out = tmp_path / "out"
    first = run_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
                    "--output", str(out), "--runtime", "runsc", "--json", cwd=tmp_path)  # fmt: skip
    assert first.returncode == 1, first.stderr  # the second step wrote nothing, on purpose
    assert "steps run under gVisor" in first.stderr
    run_id = json.loads(first.stdout.splitlines()[0])["run_id"]
    assert record_of(repo, run_id)["options"]["runtime"] == "runsc"
    assert "gVisor" in (out / "kernel.txt").read_text()  # the Sentry's dmesg: not the host's kernel
    script_file.write_text(json.dumps(script(second_writes=True)))
    resumed = run_cli("resume", run_id, "--repo", str(repo), "--json", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "gVisor" in (out / "again.txt").read_text()
    assert record_of(repo, run_id)["options"]["runtime"] == "runsc"


def test_a_run_without_runtime_uses_the_engines_default_and_records_it(tmp_path, agent_image):
    repo = one_commit_repository(tmp_path / "service")
    pipeline, script_file = write_pipeline(tmp_path, PIPELINE, script(second_writes=True))
    out = tmp_path / "out"
    completed = run_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
                        "--output", str(out), "--json", cwd=tmp_path)  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    run_id = json.loads(completed.stdout.splitlines()[0])["run_id"]
    assert record_of(repo, run_id)["options"]["runtime"] == "runc"
    assert "gVisor" not in (out / "kernel.txt").read_text()


def test_an_unknown_runtime_is_refused_in_one_line_before_anything_is_made(tmp_path, docker):
    repo = one_commit_repository(tmp_path / "service")
    pipeline, script_file = write_pipeline(tmp_path, PIPELINE, script(second_writes=True))
    refused = run_cli("run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script_file}",
                      "--runtime", "kata", cwd=tmp_path)  # fmt: skip
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [refused.stderr.strip()], refused.stderr
    assert "--runtime: runtime 'kata' is not allowed" in refused.stderr and "runc, runsc" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (repo / ".wave" / "runs").exists()  # refused before the run record (or anything) was made
