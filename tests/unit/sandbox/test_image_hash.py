"""The agent image's tag follows every part of its recipe, and only those."""

from __future__ import annotations

import dataclasses

import pytest

from wave_sandbox.sandbox.images import AgentImageRecipe, agent_image_hash

RECIPE = AgentImageRecipe(
    dockerfile=b"FROM ${BASE_IMAGE}\nRUN true\n",
    code_files={"wave_sandbox/__init__.py": b"", "wave_sandbox/agent/loop.py": b"print('loop')\n"},
    anthropic_version="0.40.0",
    base_image="debian:bookworm-slim",
    architecture="amd64",
)


def test_the_hash_is_twelve_hex_digits_and_stable():
    assert agent_image_hash(RECIPE) == agent_image_hash(dataclasses.replace(RECIPE))
    assert len(agent_image_hash(RECIPE)) == 12 and int(agent_image_hash(RECIPE), 16) >= 0
    assert RECIPE.tag == f"wave-sandbox-agent:{agent_image_hash(RECIPE)}"


def test_the_hash_changes_when_the_dockerfile_changes():
    changed = dataclasses.replace(RECIPE, dockerfile=RECIPE.dockerfile + b"RUN echo more\n")
    assert agent_image_hash(changed) != agent_image_hash(RECIPE)


@pytest.mark.parametrize(
    "change",
    [
        {"code_files": {**RECIPE.code_files, "wave_sandbox/agent/loop.py": b"print('changed')\n"}},
        {"code_files": {**RECIPE.code_files, "wave_sandbox/agent/tools.py": b""}},
        {"anthropic_version": "0.41.0"},
        {"base_image": "wave-sandbox-base:bookworm-0123456789ab"},
        {"architecture": "arm64"},
    ],
    ids=["code-content", "code-new-file", "anthropic", "base", "architecture"],
)
def test_the_hash_changes_with_every_other_part(change):
    assert agent_image_hash(dataclasses.replace(RECIPE, **change)) != agent_image_hash(RECIPE)


def test_moving_bytes_between_file_name_and_content_changes_the_hash():
    shifted = dataclasses.replace(
        RECIPE, code_files={"wave_sandbox/__init__.py": b"", "wave_sandbox/agent/loop.p": b"yprint('loop')\n"}
    )
    assert agent_image_hash(shifted) != agent_image_hash(RECIPE)
