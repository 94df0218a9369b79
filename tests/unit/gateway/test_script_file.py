"""Loading scripted-model files: the DESIGN.md format, and every mistake named by file, line and place."""

from __future__ import annotations

import pytest

from wave_sandbox.errors import ScriptError
from wave_sandbox.gateway.script_file import ScriptedTurn, load_script

from .conftest import write_script

DESIGN_EXAMPLE = """\
steps:
  triage:                      # step id
    - - {type: text, text: "Looking at recent deploys"}
      - {type: tool_use, name: bash, input: {command: "git -C /src log --oneline -5"}}
    - - {type: tool_use, name: write_file, input: {path: output/triage.json, content: "{...}"}}
    - {delay_s: 2, content: [{type: text, text: "Triage complete"}]}
"""


def test_the_design_example_loads_into_turns_in_order(tmp_path):
    script = load_script(write_script(tmp_path, DESIGN_EXAMPLE))

    turns = script.steps["triage"]
    assert len(turns) == 3
    assert turns[0] == ScriptedTurn(
        content=(
            {"type": "text", "text": "Looking at recent deploys"},
            {"type": "tool_use", "name": "bash", "input": {"command": "git -C /src log --oneline -5"}},
        )
    )
    assert turns[1].content[0]["input"] == {"path": "output/triage.json", "content": "{...}"}
    assert turns[2] == ScriptedTurn(content=({"type": "text", "text": "Triage complete"},), delay_s=2.0)


def test_steps_with_nothing_under_them_mean_every_step_answers_done(tmp_path):
    assert load_script(write_script(tmp_path, "steps:\n")).steps == {}
    assert load_script(write_script(tmp_path, "steps:\n  triage: []\n")).steps == {"triage": ()}


def test_the_file_is_read_as_yaml_1_2_like_pipelines(tmp_path):
    text = "steps:\n  t:\n    - - {type: tool_use, name: bash, input: {on: yes, when: 2024-01-01, mode: 010}}\n"

    [turn] = load_script(write_script(tmp_path, text)).steps["t"]

    assert turn.content[0]["input"] == {"on": "yes", "when": "2024-01-01", "mode": 10}


def test_an_alias_bomb_is_refused_before_anything_is_built(tmp_path):
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{name}: &{name} [{', '.join(['*' + previous] * 10)}]\n" for previous, name in zip("abcdefgh", "bcdefghi")
    )
    path = write_script(tmp_path, laughs + "steps:\n  t: []\n")

    with pytest.raises(ScriptError, match=r"script.yaml:\d+: is not valid YAML: .*alias"):
        load_script(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "steps:\n  triage:\n    - - {type: text, text: hi}\n      - {type: tool_use, name: bash, inputs: {}}\n",
            ":4: steps.triage[0][1]: unknown key 'inputs' (expected type, name, input)",
        ),
        ("step:\n  triage: []\n", ":1: top level: unknown key 'step' (expected steps, context_window)"),
        ("steps:\n  t:\n    - {delay: 2, content: [{type: text, text: x}]}\n", ":3: steps.t[0]: unknown key 'delay'"),
        ("steps:\n  t:\n    - {delay_s: soon, content: [{type: text, text: x}]}\n", ":3: steps.t[0].delay_s: expected a number"),
        ("steps:\n  t:\n    - {delay_s: 1}\n", ":3: steps.t[0]: missing key 'content'"),
        ("steps:\n  t:\n    - []\n", ":3: steps.t[0]: a turn needs at least one content block"),
        ("steps:\n  t:\n    - - {type: text, text: '  '}\n", ":3: steps.t[0][0].text: expected non-blank text"),
        ("steps:\n  t:\n    - - {type: image, source: x}\n", ":3: steps.t[0][0]: unknown block type 'image'"),
        ("steps:\n  t:\n    - - {type: tool_use, name: bash, input: [1]}\n", "steps.t[0][0].input: expected a mapping"),
        ("steps:\n  t:\n    - - {type: tool_use, name: 'no spaces', input: {}}\n", "steps.t[0][0].name: expected a tool name"),
        ("steps:\n  t:\n    - - {type: tool_use, name: bash, input: {x: .nan}}\n", "plain JSON values"),
        ("steps:\n  t:\n    - - {type: tool_use, name: bash}\n", "steps.t[0][0]: missing key 'input'"),
        ("steps:\n  t: []\n  t: []\n", ":3: steps: duplicate key 't'"),
        ("steps:\n  t: {type: text}\n", ":2: steps.t: expected a list"),
        ("", "top level: the file is empty"),
    ],
)
def test_a_mistake_is_a_script_error_naming_file_line_and_place(tmp_path, text, expected):
    path = write_script(tmp_path, text)

    with pytest.raises(ScriptError) as caught:
        load_script(path)

    assert str(path) in str(caught.value)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)


def test_yaml_that_does_not_parse_is_a_script_error(tmp_path):
    path = write_script(tmp_path, "steps:\n  t: [unclosed\n")

    with pytest.raises(ScriptError, match="is not valid YAML"):
        load_script(path)


def test_a_missing_file_is_a_script_error(tmp_path):
    with pytest.raises(ScriptError, match="cannot read the scripted model file"):
        load_script(tmp_path / "absent.yaml")
