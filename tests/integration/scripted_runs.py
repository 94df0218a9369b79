"""Building blocks for tests that run `wave-sandbox run` with the scripted model: turns, files, repos."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.integration.conftest import assert_run_left_nothing, git  # noqa: F401 (shared)


def bash(command: str) -> dict:
    return {"type": "tool_use", "name": "bash", "input": {"command": command}}


def write_file(path: str, content: str) -> dict:
    return {"type": "tool_use", "name": "write_file", "input": {"path": path, "content": content}}


def edit_file(path: str, old_text: str, new_text: str) -> dict:
    return {"type": "tool_use", "name": "edit_file", "input": {"path": path, "old_text": old_text, "new_text": new_text}}


def say(text: str) -> list[dict]:
    return [{"type": "text", "text": text}]


def write_pipeline(folder: Path, text: str, script: dict) -> tuple[Path, Path]:
    """The pipeline YAML and the scripted model's file, side by side in `folder`."""
    pipeline = folder / "pipeline.yaml"
    pipeline.write_text(text)
    script_file = folder / "script.yaml"
    script_file.write_text(yaml.safe_dump(script, sort_keys=False))
    return pipeline, script_file


def one_commit_repository(folder: Path) -> Path:
    """A real git repository at `folder` holding app.py in one commit."""
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    (folder / "app.py").write_text("print('hello')\n")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "init")
    return folder


def message_text(message: dict) -> str:
    """A message's text, whether a string or text blocks (the agent marks its prompt for the cache)."""
    content = message["content"]
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content if isinstance(block, dict))
