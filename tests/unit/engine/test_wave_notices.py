"""The notices a Wave project's run opens with, and the `wave` entry of its run.json."""

from __future__ import annotations

from wave_sandbox.engine.wave_notices import wave_notices, wave_record
from wave_sandbox.settings import combine_policies
from wave_sandbox.spec.loader import load_pipeline

PIPELINE = """\
kind: WavePipeline
metadata: {name: notices}
requires: {tools: [gh]}
steps:
  - id: post
    persona: navigator
    model: strongest
    permissions: {allowed_tools: [Read, Write, "Bash(gh pr*)", TodoWrite], deny: [Edit]}
    exec:
      source: "Open a {{ forge.pr_term }} with {{ forge.cli_tool }}"
"""


def loaded(tmp_path, text=PIPELINE):
    (tmp_path / "p.yaml").write_text(text)
    return load_pipeline(tmp_path / "p.yaml", tmp_path, combine_policies([]))


def test_forge_access_and_advisory_rules_are_said_once_each(tmp_path):
    forge, advice = wave_notices(loaded(tmp_path))
    assert forge.startswith("notice: this pipeline asks for forge access (forge variables forge.cli_tool, forge.pr_term; "
                            "requires.tools gh); steps have no network and no forge token")
    assert advice == ("notice: Wave permission rules kept as advice only (the container is the boundary): "
                      "step post: 'Bash(gh pr*)' is not enforced as a pattern; step post: 'TodoWrite' names no sandbox tool")


def test_the_record_keeps_the_tier_mapping_and_a_plain_pipeline_has_none(tmp_path):
    record = wave_record(loaded(tmp_path))
    assert record["model_tiers"] == {"cheapest": "claude-haiku-4-5", "balanced": "(the run's model)",
                                     "strongest": "claude-opus-4"}
    assert record["step_tiers"] == {"post": "strongest"}
    plain = PIPELINE.replace("requires: {tools: [gh]}\n", "").replace("    model: strongest\n", "")
    plain = plain.replace('"Bash(gh pr*)", TodoWrite', "Bash").replace("{{ forge.pr_term }} with {{ forge.cli_tool }}", "x")
    assert wave_record(loaded(tmp_path, plain)) is None and wave_notices(loaded(tmp_path, plain)) == []
