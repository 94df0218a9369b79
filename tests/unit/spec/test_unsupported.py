"""Wave features that parse but cannot run yet are refused, one line each, at their own line."""

import pytest

from wave_sandbox.spec.unsupported import is_zero_value

from .helpers import BASE, line_of, problems_in, variant

AFTER_TRIAGE_PERSONA = "    persona: navigator\n"


def with_triage_field(field_text: str) -> str:
    return variant(AFTER_TRIAGE_PERSONA, AFTER_TRIAGE_PERSONA + field_text)


@pytest.mark.parametrize("field_text, feature", [
    ("    strategy: {type: matrix, items_source: x, item_key: k}\n", "strategy"),
    ("    concurrency: 3\n", "concurrency"),
    ("    validation: [{type: file_exists, target: x}]\n", "validation"),
])
def test_step_feature_is_refused_at_its_line(repo, field_text, feature):
    text = with_triage_field(field_text)
    line = line_of(text, field_text.strip())
    assert problems_in(repo, text) == [f"p.yaml:{line}: steps[0] (triage): '{feature}' is not supported by wave-sandbox yet"]


@pytest.mark.parametrize("old, new, expected", [
    ("          mode: readonly\n", "          mode: readonly\n          subset_from: triage\n",
     "steps[0] (triage): workspace.mount[0]: subset_from 'triage' should be '<step>.<artifact>.<json-path>'"),
    ("    workspace:\n", "    workspace:\n      type: shared\n",
     "steps[0] (triage): workspace: type 'shared' is not supported by wave-sandbox yet (only 'worktree')"),
    ("    workspace:\n", "    workspace:\n      ref: other\n",
     "steps[0] (triage): workspace: 'ref' is not supported by wave-sandbox yet"),
    ("    persona: navigator\n", "    persona: navigator\n    type: webhook\n",
     "steps[0] (triage): type 'webhook' is not supported by wave-sandbox yet (only 'command' or 'conditional'; 'gate' and 'pipeline' as labels of gate and pipeline steps, as Wave reads them)"),
    ("      type: prompt\n", "      type: slash_command\n",
     "steps[0] (triage): exec: type 'slash_command' is not supported by wave-sandbox yet (only 'prompt' or 'command')"),
    ("      strategy: fresh\n", "      strategy: carry\n",
     "steps[1] (investigate): memory: strategy 'carry' is not supported by wave-sandbox yet (only 'fresh')"),
    ("        type: markdown\n", "        type: markdown\n        source: stdout\n",
     "steps[1] (investigate): output_artifacts[0]: source 'stdout' is not supported by wave-sandbox yet (only 'file')"),
    ("        type: json\n", "        type: json\n    handover: {contract: {type: typescript_interface, source: output/triage.json}}\n",
     "steps[0] (triage): handover.contract: type 'typescript_interface' is not supported by wave-sandbox yet "
     "(only json_schema, non_empty_file, markdown_sections, test_suite, llm_judge, event_contains"),
    ("        type: json\n", "        type: json\n    handover: {contracts: [{type: typescript_interface}]}\n",
     "steps[0] (triage): handover.contracts[0]: type 'typescript_interface' is not supported by wave-sandbox yet"),
    ("        type: json\n", "        type: json\n    handover: {contract: {type: non_empty_file, source: output/triage.json, on_failure: explode}}\n",
     "steps[0] (triage): handover.contract: on_failure 'explode' is not supported by wave-sandbox yet (only retry, halt, fail, warn"),
    ("        type: json\n", "        type: json\n    handover: {contract: {type: non_empty_file, source: output/triage.json, max_retries: 3}}\n",
     "steps[0] (triage): handover.contract: max_retries 3 is not supported by wave-sandbox yet"),
])
def test_nested_features_and_values_are_refused_with_their_place(repo, old, new, expected):
    problems = problems_in(repo, variant(old, new))
    assert len(problems) == 1 and expected in problems[0], problems


def test_a_parent_pipelines_artifact_validates_and_is_resolved_when_the_parent_runs_it(repo):
    text = variant("        - step: triage\n", "        - pipeline: other\n")
    assert problems_in(repo, text) == []  # engine.composer points it at the parent's step at run time


@pytest.mark.parametrize("field", ["hooks: {on_start: [x]}"])
def test_pipeline_level_features_are_refused_without_a_step_place(repo, field):
    text = BASE + field + "\n"
    name = field.split(":")[0]
    assert problems_in(repo, text) == [f"p.yaml:{line_of(text, field)}: '{name}' is not supported by wave-sandbox yet"]


def test_input_source_cli_stdin_file_are_fine_others_refused(repo):
    for source in ("cli", "stdin", "file"):
        assert problems_in(repo, BASE + f"input: {{source: {source}, example: 'x', schema: {{type: string}}}}\n") == []
    text = BASE + "input: {source: github}\n"
    problem, = problems_in(repo, text)
    assert problem.startswith(f"p.yaml:{line_of(text, 'input:')}: input: source 'github' is not supported by wave-sandbox yet")


def test_zero_values_mean_not_set_as_in_wave(repo):
    text = with_triage_field("    rework_only: false\n    edges: []\n    retry: {}\n    max_visits: 0\n    gate: null\n")
    text = variant("          as: triage\n", "          as: triage\n          optional: false\n", text)
    assert problems_in(repo, text) == []


def test_plain_wave_tool_names_and_explicit_defaults_are_accepted(repo):
    text = with_triage_field("    permissions: {allowed_tools: [Read, Write, Edit, Bash, Glob, Grep]}\n")
    text = variant("        type: markdown\n", "        type: markdown\n        source: file\n", text)
    assert problems_in(repo, text) == []


def test_a_refused_step_is_not_also_told_it_lacks_a_prompt_or_persona(repo):
    text = variant("    persona: auditor\n", "    concurrency: 3\n")
    text = variant("    exec:\n      source: \"Investigate\"\n", "", text)
    assert problems_in(repo, text) == [f"p.yaml:{line_of(text, 'concurrency: 3')}: steps[1] (investigate): 'concurrency' is not supported by wave-sandbox yet"]


@pytest.mark.parametrize("value, zero", [(None, True), (False, True), (0, True), ("", True), ([], True), ({}, True),
                                         (True, False), (1, False), ("x", False), ([0], False), ({"a": None}, False)])
def test_zero_values(value, zero):
    assert is_zero_value(value) is zero


def test_directory_artifacts_are_refused(repo):
    text = variant("        type: markdown\n", "        type: directory\n")
    assert problems_in(repo, text) == [
        f"p.yaml:{line_of(text, 'type: directory')}: steps[1] (investigate): output_artifacts[0]: "
        "type 'directory' is not supported by wave-sandbox yet (an artifact is one file)"
    ]
