"""Built-in personas, repository overrides (prompt and strict settings), new personas, tool narrowing."""

from pathlib import Path

import pytest

from wave_sandbox.errors import PersonaNotFoundError, SpecError
from wave_sandbox.resources import builtin_personas_dir
from wave_sandbox.spec.models import Step
from wave_sandbox.spec.personas import PersonaLimits, effective_tools, list_personas, load_persona, persona_names
from wave_sandbox.settings import combine_policies

CEILINGS = combine_policies([])  # the built-in ceilings, as with no policy file

BUILT_INS = ["auditor", "craftsman", "navigator", "philosopher", "summarizer"]
COMMON_TOOLS = ["bash", "read_file", "write_file", "list_files", "grep"]


def override(repo: Path, file_name: str, text: str) -> Path:
    folder = repo / ".wave" / "personas"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file_name).write_text(text)
    return folder / file_name


def step_with_tools(*tools: str) -> Step:
    permissions = {"allowed_tools": list(tools)} if tools else None
    return Step.model_validate({"id": "s", "persona": "craftsman", "permissions": permissions})


@pytest.mark.parametrize("name", BUILT_INS)
def test_built_in_personas_have_a_real_prompt_and_complete_settings(repo, name):
    persona = load_persona(name, repo, CEILINGS)
    assert len(persona.system_prompt) > 1000 and "/workspace" in persona.system_prompt
    assert persona.description and persona.origin == "built-in"
    assert persona.model is None and persona.max_tokens >= 8192 and persona.max_turns >= 20
    expected_tools = COMMON_TOOLS[:3] + ["edit_file"] + COMMON_TOOLS[3:] if name == "craftsman" else COMMON_TOOLS
    assert persona.tools == expected_tools
    settings_keys = (builtin_personas_dir() / f"{name}.yaml").read_text()
    for key in ("description:", "tools:", "model:", "max_tokens:", "max_turns:", "cpus:", "memory_mb:", "pids:", "workspace_mb:"):
        assert key in settings_keys


def test_the_five_built_ins_are_listed(repo):
    assert persona_names(repo) == BUILT_INS
    assert [persona.name for persona in list_personas(repo, CEILINGS)] == BUILT_INS


def test_repository_prompt_replaces_the_built_in_prompt_only(repo):
    built_in = load_persona("navigator", repo, CEILINGS)
    override(repo, "navigator.md", "You triage payment incidents.\n")
    persona = load_persona("navigator", repo, CEILINGS)
    assert persona.system_prompt == "You triage payment incidents."
    assert persona.tools == built_in.tools and persona.limits == built_in.limits
    assert persona.origin == "built-in, prompt from .wave/personas/navigator.md"


def test_repository_settings_override_some_keys_and_keep_the_rest(repo):
    built_in = load_persona("auditor", repo, CEILINGS)
    override(repo, "auditor.yaml", "model: claude-opus-4-1\nmax_turns: 12\nlimits: {memory_mb: 4096}\n")
    persona = load_persona("auditor", repo, CEILINGS)
    assert (persona.model, persona.max_turns, persona.max_tokens) == ("claude-opus-4-1", 12, built_in.max_tokens)
    assert persona.limits == PersonaLimits(cpus=built_in.limits.cpus, memory_mb=4096, pids=built_in.limits.pids,
                                           workspace_mb=built_in.limits.workspace_mb)
    assert persona.system_prompt == built_in.system_prompt
    assert persona.origin == "built-in, settings from .wave/personas/auditor.yaml"


@pytest.mark.parametrize("text, expected", [
    ("max_turns: 5\nmax_turn: 6\n", ".wave/personas/auditor.yaml:2: unknown field 'max_turn' (did you mean 'max_turns'?)"),
    ("tools: [bash, browse]\n", ".wave/personas/auditor.yaml:1: tools[1]: should be 'bash', 'read_file', 'write_file', 'edit_file', 'list_files' or 'grep', got 'browse'"),
    ("limits:\n  cpus: 0\n", ".wave/personas/auditor.yaml:2: limits.cpus: should be greater than 0, got 0"),
    ("- a list\n", ".wave/personas/auditor.yaml:1: persona settings should be a mapping (key: value lines)"),
    ("max_turns: [\n", ".wave/personas/auditor.yaml:2: invalid YAML"),
])
def test_repository_settings_are_strict_and_name_file_and_line(repo, text, expected):
    override(repo, "auditor.yaml", text)
    with pytest.raises(SpecError) as raised:
        load_persona("auditor", repo, CEILINGS)
    assert raised.value.problems[0].startswith(expected), raised.value.problems


def test_a_new_persona_from_the_repository(repo):
    override(repo, "detective.md", "You find the cause.\n")
    persona = load_persona("detective", repo, CEILINGS)
    assert persona.system_prompt == "You find the cause." and persona.tools == COMMON_TOOLS
    assert persona.origin == "repository" and persona.max_turns == 40
    override(repo, "detective.yaml", "description: Finds causes\ntools: [read_file, grep]\n")
    persona = load_persona("detective", repo, CEILINGS)
    assert persona.description == "Finds causes" and persona.tools == ["read_file", "grep"]
    assert "detective" in persona_names(repo)


def test_settings_without_a_prompt_are_a_problem(repo):
    override(repo, "detective.yaml", "description: Finds causes\n")
    with pytest.raises(SpecError, match="persona 'detective' has settings but no prompt"):
        load_persona("detective", repo, CEILINGS)


def test_an_empty_prompt_is_a_problem(repo):
    override(repo, "navigator.md", "\n\n")
    with pytest.raises(SpecError, match=r"\.wave/personas/navigator\.md:1: persona prompt is empty"):
        load_persona("navigator", repo, CEILINGS)


@pytest.mark.parametrize("name", ["detective", "../navigator", "nav/igator", ""])
def test_unknown_or_unsafe_names_are_not_found(repo, name):
    with pytest.raises(PersonaNotFoundError, match="available: auditor, craftsman, navigator, philosopher, summarizer"):
        load_persona(name, repo, CEILINGS)


def test_readme_in_the_personas_folder_is_not_a_persona(repo):
    override(repo, "README.md", "# Personas\n")
    assert persona_names(repo) == BUILT_INS


@pytest.mark.parametrize("allowed, expected", [
    ((), ["bash", "read_file", "write_file", "edit_file", "list_files", "grep"]),
    (("Read", "Grep"), ["read_file", "grep"]),
    (("Glob", "Edit", "Bash", "Write"), ["bash", "write_file", "edit_file", "list_files"]),
])
def test_effective_tools_narrow_the_persona_by_wave_names(repo, allowed, expected):
    assert effective_tools(load_persona("craftsman", repo, CEILINGS), step_with_tools(*allowed)) == expected


def test_allowed_tools_never_add_a_tool_the_persona_lacks(repo):
    assert effective_tools(load_persona("navigator", repo, CEILINGS), step_with_tools("Read", "Edit")) == ["read_file"]


def test_a_repository_persona_file_linking_outside_the_repository_is_refused(repo, tmp_path_factory):
    outside = tmp_path_factory.mktemp("host") / "secrets.md"
    outside.write_text("host secrets\n")
    (repo / ".wave" / "personas").mkdir(parents=True)
    (repo / ".wave" / "personas" / "navigator.md").symlink_to(outside)
    with pytest.raises(SpecError, match=r"navigator\.md:1: persona file resolves outside the repository"):
        load_persona("navigator", repo, CEILINGS)
