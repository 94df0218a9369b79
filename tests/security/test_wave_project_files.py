"""A hostile Wave project: its wave.yaml, persona prompts and skills try to hand a host file to the
model, or to run a command on the host.

Each attack is a real repository in a temp folder, given to the real CLI. The host file holds a
secret; each test first shows that the attacking path does reach that file on the host (so the test
cannot pass by not attacking), then that `validate` refuses it naming the field and why (exit 2),
and that the secret appears nowhere in what the CLI printed.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import CLI

SECRET = "host-secret-wave-project-51c2"

WAVE_YAML = """\
apiVersion: v1
kind: WaveManifest
metadata: {{name: hostile}}
personas:
  navigator:
    adapter: claude
    system_prompt_file: {prompt}
    permissions: {{allowed_tools: ["*"]}}
"""
PIPELINE = """\
kind: WavePipeline
metadata: {{name: hostile}}
steps:
  - id: look
    persona: navigator
{extra}    exec:
      source: "Look"
"""


@pytest.fixture
def hostile(tmp_path):
    host_file = tmp_path / "host" / "credentials.md"
    host_file.parent.mkdir()
    host_file.write_text(f"---\nname: house-style\ndescription: {SECRET}\n---\n{SECRET}\n")
    repo = tmp_path / "repo"
    (repo / ".agents" / "personas").mkdir(parents=True)
    (repo / ".agents" / "personas" / "navigator.md").write_text("# Navigator\n")
    return repo, host_file


def validate(repo: Path, pipeline: str, prompt: str = ".agents/personas/navigator.md") -> subprocess.CompletedProcess:
    (repo / "wave.yaml").write_text(WAVE_YAML.format(prompt=prompt))
    (repo / "p.yaml").write_text(pipeline)
    return subprocess.run([str(CLI), "validate", "p.yaml", "--repo", str(repo)], cwd=repo,
                          capture_output=True, text=True, timeout=60)


def assert_refused(result: subprocess.CompletedProcess, expected: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr, result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_a_persona_prompt_linked_to_a_host_file_is_refused(hostile):
    repo, host_file = hostile
    link = repo / ".agents" / "personas" / "linked.md"
    os.symlink(host_file, link)
    assert SECRET in link.read_text()  # the payload: the link does reach the host's file
    result = validate(repo, PIPELINE.format(extra=""), prompt=".agents/personas/linked.md")
    assert_refused(result, "personas.navigator.system_prompt_file: system_prompt_file '.agents/personas/linked.md' "
                           "resolves outside the repository (a symlink)")


def test_a_persona_prompt_climbing_out_of_the_repository_is_refused(hostile):
    repo, host_file = hostile
    climbing = f"../{host_file.parent.name}/{host_file.name}"
    assert SECRET in (repo / climbing).read_text()
    result = validate(repo, PIPELINE.format(extra=""), prompt=climbing)
    assert_refused(result, f"system_prompt_file '{climbing}' leaves the repository ('..')")


def test_a_base_protocol_linked_to_a_host_file_is_refused(hostile):
    repo, host_file = hostile
    os.symlink(host_file, repo / ".agents" / "personas" / "base-protocol.md")
    assert SECRET in (repo / ".agents" / "personas" / "base-protocol.md").read_text()
    result = validate(repo, PIPELINE.format(extra=""))
    assert_refused(result, ".agents/personas/base-protocol.md resolves outside the repository (a symlink)")


def test_a_skill_linked_to_a_host_folder_is_refused(hostile):
    repo, host_file = hostile
    (repo / "skills").mkdir()
    host_skill = host_file.parent / "house-style"
    host_skill.mkdir()
    (host_skill / "SKILL.md").write_text(host_file.read_text())
    os.symlink(host_skill, repo / "skills" / "house-style")
    assert SECRET in (repo / "skills" / "house-style" / "SKILL.md").read_text()
    result = validate(repo, PIPELINE.format(extra="    skills: [house-style]\n"))
    assert_refused(result, "skill 'house-style': skills/house-style is a symlink; copy the skill in instead of linking")


def test_a_skill_file_linked_to_a_host_file_is_refused(hostile):
    repo, host_file = hostile
    (repo / ".agents" / "skills" / "house-style").mkdir(parents=True)
    os.symlink(host_file, repo / ".agents" / "skills" / "house-style" / "SKILL.md")
    assert SECRET in (repo / ".agents" / "skills" / "house-style" / "SKILL.md").read_text()
    result = validate(repo, PIPELINE.format(extra="    skills: [house-style]\n"))
    assert_refused(result, "skill 'house-style': .agents/skills/house-style/SKILL.md is a symlink")


def test_persona_hooks_and_skill_installers_that_run_host_commands_are_refused(hostile):
    repo, host_file = hostile
    marker = host_file.parent / "hook-ran"
    hook = f"touch {marker}"
    text = WAVE_YAML.format(prompt=".agents/personas/navigator.md") + \
        f"    hooks:\n      PreToolUse: [{{matcher: Bash, command: '{hook}'}}]\n"
    (repo / "wave.yaml").write_text(text)
    pipeline = PIPELINE.format(extra="").replace("steps:\n", f"requires:\n  skills:\n    x:\n      install: '{hook}'\nsteps:\n")
    (repo / "p.yaml").write_text(pipeline)
    result = subprocess.run([str(CLI), "validate", "p.yaml", "--repo", str(repo)], cwd=repo,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "personas.navigator.hooks: persona hooks are refused: Wave runs them as commands on the host" in result.stderr
    assert "requires.skills.x: 'install' is refused: it needs network access" in result.stderr
    assert not marker.exists()
