"""A Wave project's wave.yaml, personas, tiers, forge variables, skills and requires, checked on load.

Every refusal is one `FILE:LINE: [steps[N] (id): ]where: message` line naming the field and the reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wave_sandbox.cli.app import app, register_commands
from wave_sandbox.settings import combine_policies
from wave_sandbox.settings.files import PolicyFile
from wave_sandbox.spec.forge_info import detect_forge, parse_remote_url
from wave_sandbox.spec.loader import load_pipeline
from wave_sandbox.spec.personas import load_persona

from .helpers import CEILINGS, line_of, problems_in, write_pipeline

register_commands()

WAVE_YAML = """\
apiVersion: v1
kind: WaveManifest
metadata:
  name: shop
project:
  test_command: make test
personas:
  navigator:
    adapter: claude
    description: Wave's navigator
    system_prompt_file: .agents/personas/navigator.md
    model: cheapest
    temperature: 0.2
    permissions:
      allowed_tools: ["*"]
      deny: [Edit, "Bash(rm *)"]
  github-analyst:
    adapter: claude
    system_prompt_file: .agents/personas/github-analyst.md
    model: strongest
    permissions:
      allowed_tools: [Read, Write, "Bash(gh issue view*)", WebSearch]
"""

PIPELINE = """\
kind: WavePipeline
metadata:
  name: wave-sample
steps:
  - id: scan
    persona: "{{ forge.type }}-analyst"
    exec:
      source: "Scan {{ input }} with {{ forge.cli_tool }}, test with {{ project.test_command }}"
"""


@pytest.fixture
def wave_repo(repo):
    (repo / "wave.yaml").write_text(WAVE_YAML)
    personas = repo / ".agents" / "personas"
    personas.mkdir(parents=True)
    (personas / "base-protocol.md").write_text("# Protocol\n")
    (personas / "navigator.md").write_text("# Navigator\n")
    (personas / "github-analyst.md").write_text("# Analyst\n")
    return repo


def with_remote(repo: Path, url: str) -> None:
    (repo / ".git").mkdir(exist_ok=True)
    (repo / ".git" / "config").write_text(f'[core]\n\tbare = false\n[remote "origin"]\n\turl = {url}\n')


def test_a_wave_persona_is_the_base_protocol_then_its_prompt_with_tools_and_tier(wave_repo):
    persona = load_persona("navigator", wave_repo, CEILINGS)
    assert persona.system_prompt == "# Protocol\n\n---\n\n# Navigator"
    assert persona.model == "claude-haiku-4-5" and persona.requested_model == "cheapest"
    assert persona.temperature == 0.2
    assert persona.tools == ["bash", "read_file", "write_file", "list_files", "grep"]  # "*" minus Edit
    assert persona.advisories == ["navigator: deny 'Bash(rm *)' is not enforced as a pattern (the container is the boundary)"]
    analyst = load_persona("github-analyst", wave_repo, CEILINGS)
    assert analyst.tools == ["bash", "read_file", "write_file"] and analyst.model == "claude-opus-4"
    assert "github-analyst: allowed_tools 'WebSearch' names no sandbox tool" in analyst.advisories


def test_wave_yaml_tier_mappings_win_over_wave_defaults(wave_repo):
    text = WAVE_YAML + "runtime:\n  routing:\n    complexity_map: {cheapest: claude-3-5-haiku-latest}\n"
    (wave_repo / "wave.yaml").write_text(text)
    assert load_persona("navigator", wave_repo, CEILINGS).model == "claude-3-5-haiku-latest"


def test_precedence_dot_wave_over_wave_over_built_in(wave_repo):
    assert load_persona("navigator", wave_repo, CEILINGS).origin == "wave (wave.yaml) over built-in"
    (wave_repo / ".wave" / "personas").mkdir(parents=True)
    (wave_repo / ".wave" / "personas" / "navigator.md").write_text("Our navigator.\n")
    (wave_repo / ".wave" / "personas" / "navigator.yaml").write_text("tools: [read_file]\nlimits: {memory_mb: 512}\n")
    persona = load_persona("navigator", wave_repo, CEILINGS)
    assert persona.system_prompt == "Our navigator."
    assert persona.tools == ["read_file"] and persona.limits.memory_mb == 512
    assert persona.model == "claude-haiku-4-5"  # Wave's, where .wave/ says nothing


def test_persona_placeholders_resolve_from_the_remote_without_its_credentials(wave_repo):
    with_remote(wave_repo, "https://x-access-token:ghp_secret123@github.com/acme/shop.git")
    loaded = load_pipeline(write_pipeline(wave_repo, PIPELINE), wave_repo, CEILINGS)
    assert loaded.pipeline.steps[0].persona == "github-analyst"
    assert loaded.variables.values["forge.owner"] == "acme" and loaded.variables.values["forge.cli_tool"] == "gh"
    assert "ghp_secret123" not in repr(loaded.variables)


def test_without_a_remote_the_override_names_the_forge_else_it_is_local(wave_repo):
    text = PIPELINE.replace("with {{ forge.cli_tool }}", "with {{ forge.cli_tool }} for {{ forge.owner }}")
    (wave_repo / "wave.yaml").write_text(WAVE_YAML.replace("  name: shop\n", "  name: shop\n  forge: github\n"))
    loaded = load_pipeline(write_pipeline(wave_repo, text), wave_repo, CEILINGS)
    assert loaded.pipeline.steps[0].persona == "github-analyst" and loaded.variables.values["forge.owner"] == ""
    (wave_repo / "wave.yaml").write_text(WAVE_YAML)
    assert problems_in(wave_repo, text)[0].startswith(
        f"p.yaml:{line_of(text, 'persona:')}: steps[0] (scan): persona: unknown persona 'local-analyst' "
        "(from '{{ forge.type }}-analyst')"
    )


@pytest.mark.parametrize("url, expected", [
    ("git@github.com:acme/shop.git", ("github.com", "acme", "shop")),
    ("https://user:pa55@gitlab.com/acme/shop", ("gitlab.com", "acme", "shop")),
    ("ssh://git@codeberg.org/acme/shop.git", ("codeberg.org", "acme", "shop")),
    ("https://evil.test/$(touch x)/shop", ("evil.test", "", "shop")),
])
def test_remote_urls_give_plain_names_only(url, expected):
    assert parse_remote_url(url) == expected


def test_forge_override_and_unknown_hosts_are_never_probed(repo):
    with_remote(repo, "https://git.example.com/acme/shop.git")
    assert detect_forge(repo).type == "unknown"
    assert detect_forge(repo, "gitea").variables()["forge.cli_tool"] == "tea"
    assert detect_forge(repo, "local").type == "local"


def test_persona_hooks_are_refused_at_their_line_in_wave_yaml(wave_repo):
    text = WAVE_YAML.replace("    temperature: 0.2\n", "    temperature: 0.2\n    hooks:\n      PreToolUse: [{matcher: Bash, command: ./audit.sh}]\n")
    (wave_repo / "wave.yaml").write_text(text)
    problems = problems_in(wave_repo, PIPELINE.replace('"{{ forge.type }}-analyst"', "navigator"))
    assert problems == [f"wave.yaml:{line_of(text, 'hooks:')}: personas.navigator.hooks: "
                        "persona hooks are refused: Wave runs them as commands on the host"]


@pytest.mark.parametrize("prompt_file, reason", [
    ("../outside.md", "leaves the repository ('..')"),
    ("/etc/passwd", "should be a path relative to the repository"),
    (".agents/personas/linked.md", "resolves outside the repository (a symlink); copy the file in instead of linking"),
])
def test_a_prompt_file_leaving_the_repository_is_refused(wave_repo, prompt_file, reason):
    outside = wave_repo.parent / "outside.md"
    outside.write_text("host secret\n")
    os.symlink(outside, wave_repo / ".agents" / "personas" / "linked.md")
    text = WAVE_YAML.replace("system_prompt_file: .agents/personas/navigator.md", f"system_prompt_file: {prompt_file}")
    (wave_repo / "wave.yaml").write_text(text)
    problems = problems_in(wave_repo, PIPELINE.replace('"{{ forge.type }}-analyst"', "navigator"))
    assert problems == [f"wave.yaml:{line_of(text, prompt_file)}: personas.navigator.system_prompt_file: "
                        f"system_prompt_file '{prompt_file}' {reason}"]


def test_a_tier_chooses_only_among_the_models_the_policy_allows(wave_repo):
    ceilings = combine_policies([(PolicyFile(allowed_models=["claude-sonnet-*"]), "policy.yaml")])
    text = PIPELINE.replace('"{{ forge.type }}-analyst"', "philosopher") + "    model: cheapest\n"
    path = write_pipeline(wave_repo, text)
    with pytest.raises(Exception) as error:
        load_pipeline(path, wave_repo, ceilings)
    problem, = error.value.problems
    assert problem.startswith(f"p.yaml:{line_of(text, 'model: cheapest')}: steps[0] (scan): model: "
                              "tier 'cheapest' maps to model 'claude-haiku-4-5' is not allowed by the operator's policy")
    assert problem.endswith("(Wave's DefaultComplexityMap)")


STEP_FIELDS = PIPELINE.replace('"{{ forge.type }}-analyst"', "navigator")


@pytest.mark.parametrize("extra, message", [
    ("    adapter: browser\n",
     "adapter 'browser' is refused: it drives a web browser, which needs network access that steps do not have"),
    ("    adapter: opencode\n",
     "adapter 'opencode' is not supported by wave-sandbox (steps run wave-sandbox's own agent; use claude or leave it out)"),
    ("    skills: [house-style]\n",
     "skills: skill 'house-style' not found in the repository (skills/house-style/SKILL.md or .agents/skills/house-style/SKILL.md)"),
    ("    fidelity: everything\n", "fidelity 'everything' should be one of full, compact, summary, fresh"),
])
def test_step_wave_fields_are_checked(wave_repo, extra, message):
    text = STEP_FIELDS + extra
    assert problems_in(wave_repo, text) == [f"p.yaml:{line_of(text, extra.strip())}: steps[0] (scan): {message}"]


def test_requires_install_is_refused_and_skills_must_be_in_the_repository(wave_repo):
    text = STEP_FIELDS.replace("steps:\n", "requires:\n  tools: [gh]\n  skills:\n    speckit:\n      install: uv tool install x\nsteps:\n")
    assert problems_in(wave_repo, text) == [
        f"p.yaml:{line_of(text, 'speckit:')}: requires.skills: skill 'speckit' not found in the repository "
        "(skills/speckit/SKILL.md or .agents/skills/speckit/SKILL.md) (Wave's preflight needs it before the run starts)",
        f"p.yaml:{line_of(text, 'install:')}: requires.skills.speckit: 'install' is refused: it needs network access "
        "to install software, and Wave runs it as a command on the host",
    ]


def test_a_skill_linked_from_outside_is_refused(wave_repo, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "house-style"
    outside.mkdir()
    (outside / "SKILL.md").write_text("---\nname: house-style\ndescription: d\n---\n")
    (wave_repo / "skills").mkdir()
    os.symlink(outside, wave_repo / "skills" / "house-style")
    text = STEP_FIELDS + "    skills: [house-style]\n"
    problem, = problems_in(wave_repo, text)
    assert problem.endswith("skills: skill 'house-style': skills/house-style is a symlink; copy the skill in instead of linking")


def test_project_skill_templates_resolve_and_an_unset_one_is_dropped(wave_repo):
    text = STEP_FIELDS.replace("steps:\n", 'skills: ["{{ project.skill }}"]\nsteps:\n')
    assert problems_in(wave_repo, text) == []


def test_validate_prints_wave_refusals_and_exits_2(wave_repo):
    text = STEP_FIELDS + "    adapter: browser\n"
    (wave_repo / "p.yaml").write_text(text)
    result = CliRunner().invoke(app, ["validate", "p.yaml", "--repo", str(wave_repo)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"p.yaml:{line_of(text, 'adapter:')}: steps[0] (scan): adapter 'browser' is refused: it drives a web "
        "browser, which needs network access that steps do not have"
    ]


@pytest.mark.parametrize("path, expected", [
    (".pr_url", ["https://x/1"]), (".items[0].url", ["a"]), (".items[*].url", ["a", "b"]),
    (".missing", []), (".items", []), (".items[5].url", []),
])
def test_outcome_json_paths(path, expected):
    from wave_sandbox.engine.outcomes import json_path_values

    data = {"pr_url": "https://x/1", "items": [{"url": "a"}, {"url": "b"}]}
    assert json_path_values(data, path) == expected
