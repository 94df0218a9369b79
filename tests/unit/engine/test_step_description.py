"""The step description's two sides: pydantic on the host, the stdlib reader in the agent's image.

They ship together but are declared twice (the agent cannot import pydantic); these tests hold the two
to the same field names, defaults, required fields, types and positivity rules.
"""

from __future__ import annotations

import dataclasses
import json
import typing

import pytest
from pydantic import ValidationError

from wave_sandbox.agent import step_file as agent_side
from wave_sandbox.engine.step_description import StepDescription

# How a host annotation travels through JSON: what the agent's reader must accept for it.
JSON_TYPES = {str: (str,), int: (int,), float: (int, float), tuple[str, ...]: (list,),
              float | None: (int, float, type(None))}


def host_field(name: str):
    return StepDescription.model_fields[name]


def example(**changes) -> StepDescription:
    fields = dict(step_id="triage", persona="navigator", model="claude-x", system="You triage.",
                  prompt="Look at the repository.", tools=("bash", "read_file"), max_tokens=4096,
                  max_turns=30, timeout_s=900)  # fmt: skip
    return StepDescription(**{**fields, **changes})


def test_both_sides_declare_the_same_fields_in_the_same_order():
    agent_fields = [field.name for field in dataclasses.fields(agent_side.StepDescription)]
    assert list(StepDescription.model_fields) == agent_fields == list(agent_side.STEP_FILE_FIELDS)


def test_both_sides_have_the_same_defaults_and_required_fields():
    for field in dataclasses.fields(agent_side.StepDescription):
        host = host_field(field.name)
        _, required, _ = agent_side.STEP_FILE_FIELDS[field.name]
        assert host.is_required() == required == (field.default is dataclasses.MISSING), field.name
        if not required:
            assert host.default == field.default, field.name


def test_both_sides_have_the_same_types():
    agent_hints = typing.get_type_hints(agent_side.StepDescription)
    for name, (accepted, _, _) in agent_side.STEP_FILE_FIELDS.items():
        annotation = host_field(name).annotation
        assert JSON_TYPES[annotation] == accepted, name
        assert annotation == agent_hints[name], name


def test_both_sides_refuse_the_same_non_positive_numbers():
    for name, (_, _, positive) in agent_side.STEP_FILE_FIELDS.items():
        if name in ("step_id", "persona", "model", "system", "prompt", "tools", "workdir", "temperature"):
            continue
        refused_by_host = True
        try:
            example(**{name: 0})
        except ValidationError:
            pass
        else:
            refused_by_host = False
        assert refused_by_host == positive, name


def test_what_the_host_writes_the_agent_reads_back_unchanged(tmp_path):
    written = example()
    path = tmp_path / "step.json"
    path.write_text(written.to_json())
    read = agent_side.load_step_file(path)
    assert dataclasses.asdict(read) == written.model_dump()


def test_a_retry_changes_only_the_prompt_and_the_time(tmp_path):
    retry = example().for_retry("Fix these errors.", 300)
    assert retry.model_dump() == {**example().model_dump(), "prompt": "Fix these errors.", "timeout_s": 300}
    assert agent_side.find_step_data_problem(json.loads(retry.to_json())) is None


@pytest.mark.parametrize("bad", [{"max_turns": 0}, {"prompt": ""}, {"unknown": 1}])
def test_the_host_refuses_what_the_agent_would_refuse(bad):
    data = {**json.loads(example().to_json()), **bad}
    assert agent_side.find_step_data_problem(data) is not None
    with pytest.raises(ValidationError):
        StepDescription(**data)
