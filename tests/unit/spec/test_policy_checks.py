"""A repository's pipelines and personas checked against the operator's ceilings; built-ins it
replaces; YAML that would expand, loop or nest without bound."""

import time

import pytest

from wave_sandbox.errors import SpecError
from wave_sandbox.settings import PolicyFile, combine_policies
from wave_sandbox.spec.loader import load_pipeline, read_description
from wave_sandbox.spec.overrides import overrides_notice
from wave_sandbox.spec.personas import load_persona
from wave_sandbox.spec.yaml_budget import ALIAS_EXPANSION_BUDGET
from wave_sandbox.spec.yaml_loader import YamlSyntaxError, parse_yaml

from .helpers import BASE, line_of, variant, write_pipeline

DEFAULTS = combine_policies([])
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{level}: &{level} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, level in zip("abcdefgh", "bcdefghi")
)


def persona_override(repo, name, settings_text):
    folder = repo / ".wave" / "personas"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(settings_text)


def problems(repo, text, ceilings=DEFAULTS):
    try:
        load_pipeline(write_pipeline(repo, text), repo, ceilings)
    except SpecError as error:
        return error.problems
    return []


def test_persona_limits_above_the_ceilings_are_refused_at_their_lines(repo):
    persona_override(repo, "navigator", "limits:\n  memory_mb: 20480\n  pids: 1000000\n  cpus: 64\n")
    found = problems(repo, BASE)
    assert ".wave/personas/navigator.yaml:2: limits.memory_mb: 20480 MB is above the operator's ceiling of 8192 MB" in found[0]
    assert found[1].startswith(".wave/personas/navigator.yaml:3: limits.pids: 1000000 processes is above")
    assert found[2].startswith(".wave/personas/navigator.yaml:4: limits.cpus: 64 CPUs is above")


def test_a_step_timeout_above_the_ceiling_is_refused_at_its_line(repo):
    text = variant("    persona: navigator\n", "    persona: navigator\n    timeout_minutes: 99360\n")
    line = line_of(text, "timeout_minutes")
    assert problems(repo, text) == [
        f"p.yaml:{line}: steps[0] (triage): timeout_minutes: 99360 minutes (5961600 s) is above the operator's "
        f"ceiling of 14400 s ({DEFAULTS.source_of('step_timeout_s')})"
    ]


def test_a_policy_narrows_models_and_tools(repo):
    ceilings = combine_policies([(PolicyFile(allowed_models=["claude-*"], allowed_tools=["read_file", "grep"]), "policy P")])
    persona_override(repo, "navigator", "model: gpt-9\n")
    found = problems(repo, variant("    persona: navigator\n", "    persona: navigator\n    model: other-model\n"), ceilings)
    assert any("steps[0] (triage): model: model 'other-model' is not allowed by the operator's policy" in p for p in found)
    assert any(p.startswith(".wave/personas/navigator.yaml:1: model: model 'gpt-9' is not allowed") for p in found)
    assert any("tools[0]: tool 'bash' is not allowed" in p for p in found)


def test_values_within_the_ceilings_load(repo):
    persona_override(repo, "navigator", "limits:\n  memory_mb: 4096\n")
    assert load_persona("navigator", repo, DEFAULTS).limits.memory_mb == 4096


def test_a_repository_pipeline_replacing_a_built_in_is_named_once(repo):
    path = write_pipeline(repo, variant("name: sample", "name: incident-response"), "p.yaml")
    notice = overrides_notice(path, "incident-response", ["navigator", "auditor"], repo)
    assert notice == "notice: this repository replaces built-in pipeline incident-response by p.yaml"
    persona_override(repo, "auditor", "max_turns: 3\n")
    notice = overrides_notice(path, "sample", ["navigator", "auditor", "auditor"], repo)
    assert notice == "notice: this repository replaces built-in persona auditor by .wave/personas/auditor.yaml"
    assert overrides_notice(path, "sample", ["navigator"], repo) is None


def test_an_alias_bomb_is_refused_quickly_with_its_line():
    started = time.monotonic()
    with pytest.raises(YamlSyntaxError) as caught:
        parse_yaml(BOMB)
    assert time.monotonic() - started < 0.5
    assert "alias bomb" in caught.value.message and caught.value.line == 5  # the first level past the budget
    assert len(BOMB) < 700


def test_aliases_within_the_budget_and_merge_keys_still_work():
    document = parse_yaml("base: &b {cpus: 1, pids: 64}\nstep: {<<: *b, pids: 128}\nlist: &l [1, 2]\nagain: *l\n")
    assert document.data["step"] == {"cpus": 1, "pids": 128} and document.data["again"] == [1, 2]
    wide = "a: &a [" + ", ".join(["x"] * (ALIAS_EXPANSION_BUDGET // 2)) + "]\nb: *a\n"
    assert len(parse_yaml(wide).data["b"]) == ALIAS_EXPANSION_BUDGET // 2


def test_a_merge_bomb_is_refused_too():
    text = "a: &a {k: v}\n" + "".join(
        f"{level}: &{level} {{<<: [{', '.join([f'*{previous}'] * 9)}], {level}: 1}}\n"
        for previous, level in zip("abcdefgh", "bcdefghi")
    )
    with pytest.raises(YamlSyntaxError, match="alias bomb"):
        parse_yaml(text)


@pytest.mark.parametrize("text, message", [
    ("a: &a [*a]\n", "refers to a node that contains it"),
    ("[" * 300 + "]" * 300, "nested deeper than 100 levels"),
])
def test_loops_and_deep_nesting_are_refused_not_a_recursion_error(text, message):
    with pytest.raises(YamlSyntaxError, match=message):
        parse_yaml(text)


def test_list_shows_the_refused_file_and_why(repo):
    path = repo / "bomb.yaml"
    path.write_text(BOMB)
    assert read_description(path).startswith("(cannot be read: bomb.yaml:5: YAML aliases expand to")
