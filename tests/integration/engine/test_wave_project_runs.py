"""A Wave user's repository runs as it is: wave.yaml personas (base protocol prepended, tools, tiers,
precedence, placeholders), skills mounted read-only and listed, a thread's answers in the later
prompts, Wave's template variables, the forge-access notice; and its refusals name field and reason.

Real daemon, real containers, real git; only the model is scripted."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import assert_run_left_nothing, run_cli
from tests.integration.engine.wave_project import REMOTE_SECRET, wave_project_repository
from tests.integration.scripted_runs import bash, say
from tests.integration.scripted_runs import write_file as write

pytestmark = pytest.mark.docker

SCRIPT = {
    "steps": {
        "scan": [
            [bash("cat /wave/skills/house-style/SKILL.md; touch /wave/skills/house-style/x; echo touch-exit=$?")],
            [write(".agents/output/finding.json", json.dumps({"title": "tabs", "url": "https://example.test/1\u001b[2J"}))],
            say("Scan done: THREAD-ANSWER-ONE"),
        ],
        "review": [
            [write(".agents/output/review.md", "# Review\n\nLooks fine.\n")],
            say("Review done: THREAD-ANSWER-TWO"),
        ],
        "wrap-up": [
            [write(".agents/output/summary.md", "Summary.\n")],
            say("Wrapped up"),
        ],
    }
}


@pytest.fixture(scope="module")
def wave_run(tmp_path_factory, agent_image, docker):
    tmp_path = tmp_path_factory.mktemp("wave-project")
    repo = wave_project_repository(tmp_path / "shop")
    script = tmp_path / "script.yaml"
    script.write_text(yaml.safe_dump(SCRIPT, sort_keys=False))
    result = run_cli("run", "wave-review", "the checkout change", "--model", f"scripted:{script}",
                     "--output", str(tmp_path / "out"), cwd=repo, timeout=400)
    yield repo, result
    assert_run_left_nothing(docker, run_json(repo)["run_id"])


def step_file(repo: Path, step_id: str) -> dict:
    run_folder = next(p for p in (repo / ".wave" / "runs").iterdir() if p.is_dir())
    return json.loads((run_folder / "steps" / step_id / "step.json").read_text())


def run_json(repo: Path) -> dict:
    run_folder = next(p for p in (repo / ".wave" / "runs").iterdir() if p.is_dir())
    return json.loads((run_folder / "run.json").read_text())


def transcript_text(repo: Path, step_id: str) -> str:
    run_folder = next(p for p in (repo / ".wave" / "runs").iterdir() if p.is_dir())
    return (run_folder / "steps" / step_id / "transcript.jsonl").read_text()


def every_recorded_text(repo: Path, result) -> str:
    texts = [result.stdout, result.stderr]
    for root, _, files in os.walk(repo / ".wave" / "runs"):
        texts += [Path(root, name).read_text(errors="replace") for name in files]
    return "\n".join(texts)


def test_a_wave_project_runs_with_its_personas_tiers_skills_and_thread(wave_run):
    repo, result = wave_run
    assert result.returncode == 0, result.stdout + result.stderr
    scan, review, wrap_up = (step_file(repo, step) for step in ("scan", "review", "wrap-up"))
    # The persona placeholder resolved from the remote URL; Wave's base protocol comes first, then the prompt.
    assert scan["persona"] == "github-analyst"
    assert scan["system"].startswith("# Wave Agent Protocol\n\nBASE-PROTOCOL-MARKER\n\n---\n\n# GitHub Analyst")
    # The step's tier `strongest` through tier_models (a step's model wins, as before); the persona's tier
    # yields to an explicit --model, as any persona model does. No tier name reaches the gateway.
    assert review["model"] == "claude-opus-4-1" and scan["model"] == "scripted"
    assert '"model": "strongest"' not in transcript_text(repo, "review")
    # The persona's temperature travels to the model with every request; none is sent where none is set.
    assert scan["temperature"] == 0.1 and review["temperature"] is None
    assert '"temperature": 0.1' in transcript_text(repo, "scan").replace('"temperature":0.1', '"temperature": 0.1')
    # Read + a Bash pattern: the tools, no more; navigator's "*" minus a bare denied Edit.
    assert scan["tools"] == ["bash", "read_file", "write_file"]
    assert review["tools"] == ["bash", "read_file", "write_file", "list_files", "grep"]
    # Wave's template variables; an unknown one left as Wave leaves it; the remote's token nowhere.
    assert "Scan the checkout change of acme/shop with gh; tests: make test; keep {{ not.a.wave.variable }}" in scan["prompt"]
    assert "Review /wave/artifacts/finding" in review["prompt"]
    # The skill: listed as Wave lists it, and mounted read-only.
    assert "## Available Skills" in scan["system"]
    assert "- **house-style**: How this shop writes code (see `/wave/skills/house-style/SKILL.md`)" in scan["system"]
    scan_transcript = transcript_text(repo, "scan")
    assert "Use tabs." in scan_transcript and "Read-only file system" in scan_transcript
    assert "touch-exit=1" in scan_transcript
    # The thread: later steps get the earlier final answers (full, then compact).
    assert review["prompt"].startswith("## THREAD CONTEXT")
    assert "## Step: scan at " in review["prompt"] and "THREAD-ANSWER-ONE" in review["prompt"]
    assert "### scan (completed)\nScan done: THREAD-ANSWER-ONE" in wrap_up["prompt"]
    assert "### review (completed)\nReview done: THREAD-ANSWER-TWO" in wrap_up["prompt"]
    assert "## Agent Concurrency\n\nYou may spawn up to 3 concurrent sub-agents" in review["system"]
    # Precedence: .wave/personas over Wave's definition (over the built-in navigator's prompt).
    assert wrap_up["system"] == "OUR-SUMMARIZER-LIMITS-MARKER: summarise in three lines."
    assert "WAVE-NAVIGATOR-MARKER" in review["system"]
    assert REMOTE_SECRET not in every_recorded_text(repo, result)


def test_the_run_says_what_it_withholds_and_records_the_tier_mapping(wave_run):
    repo, result = wave_run
    assert result.returncode == 0, result.stdout + result.stderr
    forge_notice, = [line for line in result.stderr.splitlines() if "asks for forge access" in line]
    for asked in ("forge.cli_tool", "forge.owner", "forge.repo", "token_scopes issues:read", "env_passthrough of GH_TOKEN"):
        assert asked in forge_notice, forge_notice
    assert "steps have no network" in forge_notice
    withheld, = [line for line in result.stderr.splitlines() if "never given to a container" in line]
    assert "allowed_domains api.github.com" in withheld and "env_passthrough GH_TOKEN" in withheld
    advisory, = [line for line in result.stderr.splitlines() if "kept as advice only" in line]
    assert "Bash(git log*)" in advisory
    wave = run_json(repo)["wave"]
    assert wave["model_tiers"] == {"cheapest": "claude-haiku-4-5", "balanced": "(the run's model)",
                                   "strongest": "claude-opus-4-1"}
    assert wave["step_tiers"] == {"review": "strongest"} and wave["persona_tiers"] == {"github-analyst": "cheapest"}
    assert wave["personas"] == {"scan": "{{ forge.type }}-analyst -> github-analyst"}
    assert run_json(repo)["steps"]["scan"]["outcomes"] == [
        {"type": "url", "label": "", "value": "https://example.test/1\u001b[2J"}]
    shown = run_cli("show", "latest", cwd=repo)
    assert "    outcome url: value: https://example.test/1" in shown.stdout and "\x1b[2J" not in shown.stdout
    assert "Model tiers: cheapest -> claude-haiku-4-5" in shown.stdout
    assert "strongest -> claude-opus-4-1 (asked by github-analyst cheapest, review strongest)" in shown.stdout


PREFLIGHT_PIPELINE = """\
kind: WavePipeline
metadata:
  name: needs-gh
requires:
  tools: [git, gh]
steps:
  - id: comment
    persona: navigator
    exec:
      source: "Comment on the {{ forge.pr_term }} with {{ forge.cli_tool }}"
"""


def test_requires_tools_are_checked_in_the_agent_image_before_any_step(tmp_path, agent_image, docker):
    repo = wave_project_repository(tmp_path / "shop")
    (repo / ".agents" / "pipelines" / "needs-gh.yaml").write_text(PREFLIGHT_PIPELINE)
    assert run_cli("validate", "needs-gh", cwd=repo).returncode == 0  # a run-time check, as Wave's preflight
    script = tmp_path / "script.yaml"
    script.write_text(yaml.safe_dump({"steps": {"comment": [say("never asked")]}}))
    result = run_cli("run", "needs-gh", "--model", f"scripted:{script}", cwd=repo, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    expected = "preflight: requires.tools gh not found in the agent image (Wave's preflight checks them before a pipeline starts)"
    assert f"skipped   comment" in result.stdout and expected in result.stdout
    assert "requires.tools gh" in result.stderr and "asks for forge access" in result.stderr
    recorded = run_json(repo)
    assert recorded["failure"] == expected and recorded["steps"]["comment"]["status"] == "skipped"
    assert not (next(p for p in (repo / ".wave" / "runs").iterdir() if p.is_dir()) / "steps" / "comment" / "step.json").exists()
    assert_run_left_nothing(docker, recorded["run_id"])


CALLS_CHILDREN = """\
kind: WavePipeline
metadata:
  name: calls-children
steps:
  - id: first
    type: command
    script: "echo first"
  - id: with-git
    dependencies: [first]
    pipeline: needs-git
  - id: with-gh
    dependencies: [with-git]
    pipeline: needs-gh
"""

NEEDS_GIT = """\
kind: WavePipeline
metadata:
  name: needs-git
requires:
  tools: [git]
steps:
  - id: log
    type: command
    script: "echo child ran"
"""


def test_a_sub_pipeline_s_own_requires_tools_are_checked_when_it_starts(tmp_path, agent_image, docker):
    """Wave's child executor runs the child's preflight: a missing tool fails the step that calls it."""
    repo = wave_project_repository(tmp_path / "shop")
    pipelines = repo / ".agents" / "pipelines"
    (pipelines / "needs-gh.yaml").write_text(PREFLIGHT_PIPELINE)
    (pipelines / "needs-git.yaml").write_text(NEEDS_GIT)
    (pipelines / "calls-children.yaml").write_text(CALLS_CHILDREN)
    result = run_cli("run", "calls-children", "x", "--model", "mock", "--json", cwd=repo, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    ended = {event["step_id"]: event for event in events if event["state"] in ("completed", "failed")}
    assert ended["first"]["state"] == "completed" and ended["with-git.log"]["state"] == "completed"
    assert ended["with-git"]["state"] == "completed"  # git is in the image: the child ran
    expected = ("sub-pipeline 'needs-gh': preflight: requires.tools gh not found in the agent image "
                "(Wave's preflight checks them before a pipeline starts)")
    assert ended["with-gh"]["state"] == "failed" and ended["with-gh"]["message"] == expected, ended["with-gh"]
    assert not any((event.get("step_id") or "").startswith("with-gh.") for event in events)  # its steps never started
    assert_run_left_nothing(docker, events[0]["run_id"])


NEEDS_BUILTINS = """\
kind: WavePipeline
metadata:
  name: needs-builtins
requires:
  tools: [cd, git, exit]
steps:
  - id: never
    type: command
    script: "echo never"
"""


def test_a_shell_builtin_is_no_required_tool(tmp_path, agent_image, docker):
    """Wave looks tools up on PATH (exec.LookPath): `cd` and `exit` are shell builtins, not tools."""
    repo = wave_project_repository(tmp_path / "shop")
    (repo / ".agents" / "pipelines" / "needs-builtins.yaml").write_text(NEEDS_BUILTINS)
    result = run_cli("run", "needs-builtins", "x", "--model", "mock", cwd=repo, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "preflight: requires.tools cd, exit not found in the agent image" in result.stdout, result.stdout
    assert_run_left_nothing(docker, run_json(repo)["run_id"])
