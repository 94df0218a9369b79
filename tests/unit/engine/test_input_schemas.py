"""An injected artifact is checked against its `schema_path` before the consuming step starts, as Wave does."""

from __future__ import annotations

import json

import pytest

from wave_sandbox.engine.input_schemas import injected_schema_problems
from wave_sandbox.settings import combine_policies
from wave_sandbox.spec.loader import load_pipeline

PIPELINE = """\
kind: WavePipeline
metadata: {name: schemas}
steps:
  - id: scan
    persona: navigator
    exec: {source: scan}
    output_artifacts: [{name: finding, path: output/finding.json, type: json}]
  - id: review
    persona: navigator
    dependencies: [scan]
    memory:
      inject_artifacts:
        - {step: scan, artifact: finding, as: finding, schema_path: contracts/finding.schema.json%s}
    exec: {source: review}
"""


@pytest.fixture
def loaded(tmp_path):
    (tmp_path / "contracts").mkdir()
    schema = {"type": "object", "required": ["title"], "properties": {"title": {"type": "string"}}}
    (tmp_path / "contracts" / "finding.schema.json").write_text(json.dumps(schema))

    def load(optional: bool = False):
        (tmp_path / "p.yaml").write_text(PIPELINE % (", optional: true" if optional else ""))
        return load_pipeline(tmp_path / "p.yaml", tmp_path, combine_policies([]))
    return load


def problems(loaded_pipeline, artifact) -> list[str]:
    return injected_schema_problems(loaded_pipeline, loaded_pipeline.pipeline.step("review"), lambda step, name: artifact)


def test_a_matching_artifact_passes_and_a_mismatch_is_named(loaded, tmp_path):
    artifact = tmp_path / "finding.json"
    artifact.write_text(json.dumps({"title": "t"}))
    assert problems(loaded(), artifact) == []
    artifact.write_text(json.dumps({"title": 3}))
    problem, = problems(loaded(), artifact)
    assert problem.startswith("injected artifact 'finding' (step scan) does not match contracts/finding.schema.json: ")
    assert "title" in problem


def test_a_missing_artifact_is_fine_only_when_optional(loaded, tmp_path):
    assert problems(loaded(), tmp_path / "none.json") == ["injected artifact 'finding' (step scan) is missing"]
    assert problems(loaded(optional=True), tmp_path / "none.json") == []


def test_the_schema_must_be_a_repository_file_at_validation(loaded, tmp_path):
    (tmp_path / "contracts" / "finding.schema.json").unlink()
    with pytest.raises(Exception) as error:
        loaded()
    assert "schema_path 'contracts/finding.schema.json' no such file in the repository" in error.value.problems[0]
