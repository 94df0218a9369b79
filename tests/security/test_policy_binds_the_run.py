"""The operator's run-wide ceilings bind a real run, whatever the repository's personas say.

The policy file (`WAVE_SANDBOX_POLICY_FILE`, as `/etc/wave-sandbox/policy.yaml` would be) lowers the
clone's disk ceiling and the transcript cap below the built-in defaults; the repository's persona sets
neither. A read-write step that writes past the policy's clone ceiling is stopped at it, and a step
whose conversation grows past the policy's transcript cap is stopped by the gateway.
"""

from __future__ import annotations

import pytest
import yaml

from tests.integration.conftest import assert_run_left_nothing
from tests.security.attack_kit import LiveRun, bash, make_repository, say, write_pipeline

pytestmark = pytest.mark.docker

MIB = 1024 * 1024
POLICY = {"clone_mb": 40, "transcript_step_mb": 1}
PERSONAS = {"filler": {"limits": {"memory_mb": 512}}}  # no clone_mb: the built-in default (2048) would apply
FILL_THE_CLONE = "i=0; while dd if=/dev/zero of=/src/more$i bs=1M count=16; do i=$((i+1)); done"
# Each turn's tool result stays in the conversation, so the requests (kept in the transcript) grow.
GROW_THE_CONVERSATION = "head -c 20000 /dev/urandom | base64 -w0"


def step(step_id: str, mode: str | None) -> dict:
    mounts = {"workspace": {"mount": [{"source": "./", "target": "/src", "mode": mode}]}} if mode else {}
    return {"id": step_id, "persona": "filler", "exec": {"source": step_id}} | mounts


@pytest.fixture(scope="module")
def policed_run(tmp_path_factory, docker, agent_image):
    base = tmp_path_factory.mktemp("policy")
    policy_file = base / "policy.yaml"
    policy_file.write_text(yaml.safe_dump(POLICY))
    repo = make_repository(base / "service", personas=PERSONAS)
    pipeline = {"kind": "WavePipeline", "metadata": {"name": "policed"},
                "steps": [step("fill", "readwrite"), step("chatter", None)]}  # fmt: skip
    script = {"steps": {
        "fill": [[bash(FILL_THE_CLONE, timeout_s=110)], say("Filled")],
        "chatter": [[bash(GROW_THE_CONVERSATION)] for _ in range(40)] + [say("Chatted")],
    }}  # fmt: skip
    pipeline_file, script_file = write_pipeline(base, pipeline, script)
    run = LiveRun([str(pipeline_file), "--repo", str(repo), "--model", f"scripted:{script_file}",
                   "--output", str(base / "out")], cwd=base, env={"WAVE_SANDBOX_POLICY_FILE": str(policy_file)})  # fmt: skip
    exit_code = run.finish(timeout_s=240)
    return {"run": run, "exit_code": exit_code, "repo": repo}


def test_the_policys_clone_ceiling_stops_a_step_whose_persona_sets_none(policed_run):
    run = policed_run["run"]
    assert policed_run["exit_code"] == 1, run.stderr
    failed = run.step_event("fill")
    assert failed["state"] == "failed"
    assert failed["message"].startswith("stopped: the read-write clone grew past its ceiling of 40 MiB"), failed


def test_the_policys_transcript_cap_stops_a_step_whose_conversation_grows_past_it(policed_run):
    run = policed_run["run"]
    failed = run.step_event("chatter")
    assert failed["state"] == "failed", failed
    assert "transcript reached its cap of 1" in failed["message"], failed["message"]
    transcript = policed_run["repo"] / ".wave" / "runs" / run.run_id / "steps" / "chatter" / "transcript.jsonl"
    assert transcript.stat().st_size <= 1 * MIB  # the payload reached the cap and nothing was written past it
    assert any("transcript_cap" in line for line in transcript.read_text().splitlines())


def test_nothing_is_left(policed_run, docker):
    assert "Traceback" not in policed_run["run"].stderr
    assert_run_left_nothing(docker, policed_run["run"].run_id)
