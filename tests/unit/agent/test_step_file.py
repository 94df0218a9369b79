import json

import pytest

from wave_sandbox.agent.step_file import StepDescription, StepFileError, load_step_file

VALID_STEP = {
    "step_id": "triage", "persona": "navigator", "model": "claude-sonnet-4-5", "system": "You triage.",
    "prompt": "500 errors", "tools": ["bash", "read_file", "write_file", "list_files", "grep"],
    "max_tokens": 8192, "max_turns": 40, "timeout_s": 900, "workdir": "/workspace",
    "tool_output_limit": 30000, "bash_timeout_s": 120,
}


def write_json(tmp_path, data) -> object:
    path = tmp_path / "step.json"
    path.write_text(json.dumps(data))
    return path


def test_the_contract_example_loads(tmp_path):
    step = load_step_file(write_json(tmp_path, VALID_STEP))
    assert step == StepDescription(**{**VALID_STEP, "tools": tuple(VALID_STEP["tools"])})


def test_optional_keys_take_their_defaults(tmp_path):
    minimal = {key: value for key, value in VALID_STEP.items()
               if key not in ("workdir", "tool_output_limit", "bash_timeout_s")}
    step = load_step_file(write_json(tmp_path, minimal))
    assert (step.workdir, step.tool_output_limit, step.bash_timeout_s) == ("/workspace", 30000, 120)


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"model": None}, "'model' must be a string, got null"),
        ({"max_turns": True}, "'max_turns' must be an integer, got true"),
        ({"max_turns": 0}, "'max_turns' must be greater than 0, got 0"),
        ({"timeout_s": "900"}, "'timeout_s' must be an integer or a number"),
        ({"prompt": "  "}, "'prompt' must not be empty"),
        ({"tools": ["bash", "Read"]}, 'unknown tool "Read" in \'tools\''),
        ({"tools": ["bash", "bash"]}, "'tools' lists a tool more than once"),
        ({"top_p": 0.2}, "unknown key(s) top_p"),
        ({"temperature": "hot"}, "'temperature' must be an integer or a number or null"),
    ],
)
def test_a_malformed_step_file_names_its_problem(tmp_path, change, expected):
    path = write_json(tmp_path, {**VALID_STEP, **change})
    with pytest.raises(StepFileError) as raised:
        load_step_file(path)
    assert expected in str(raised.value)
    assert str(path) in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_missing_key_is_named(tmp_path):
    data = dict(VALID_STEP)
    del data["system"]
    with pytest.raises(StepFileError, match="missing required key 'system'"):
        load_step_file(write_json(tmp_path, data))


def test_a_missing_file_and_bad_json_are_step_file_errors(tmp_path):
    with pytest.raises(StepFileError, match="cannot read step file .*: No such file or directory"):
        load_step_file(tmp_path / "absent.json")
    (tmp_path / "broken.json").write_text('{"step_id": ')
    with pytest.raises(StepFileError, match="is not valid JSON"):
        load_step_file(tmp_path / "broken.json")
    with pytest.raises(StepFileError, match="expected a JSON object"):
        load_step_file(write_json(tmp_path, ["not", "an", "object"]))
