"""Rich markup and escape sequences from a model's tool call and summary reach the live console (a real
pseudo-terminal) as text: no OSC 8 hyperlink, no style closed or opened by `[/]` or `[bold]`, no escape
sequence of theirs sent to the terminal."""

from __future__ import annotations

import re

import pytest

from tests.integration.engine.test_live_progress import ANSI, run_in_terminal
from tests.integration.scripted_runs import bash, one_commit_repository, say, write_pipeline

pytestmark = pytest.mark.docker

MARKUP = "[link=https://evil.example/x]open[/link][/][bold red]ok"
PIPELINE = """\
kind: WavePipeline
metadata:
  name: live-markup
steps:
  - id: probe
    persona: navigator
    exec:
      source: "Look around"
"""
SCRIPT = {"steps": {"probe": [
    [bash(f"echo '{MARKUP}' \x1b]52;c;cHduZWQ=\x07 >/dev/null; sleep 5")],
    say(f"Looked {MARKUP} \x1b]8;;https://evil.example\x07here\x1b]8;;\x07"),
]}}


def test_markup_in_a_tool_call_and_summary_is_shown_as_text_on_the_live_console(tmp_path):
    repo = one_commit_repository(tmp_path / "repo")
    pipeline, script = write_pipeline(tmp_path, PIPELINE, SCRIPT)
    chunks = run_in_terminal(["run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script}",
                              "--output", str(tmp_path / "out")], repo)
    raw = "".join(chunk for _, chunk in chunks)
    text = ANSI.sub("", raw)
    assert "bash: echo '[link=https://evil.example/x]open[/link][/][bold" in text  # on the live line, as text
    assert f"Looked {MARKUP}" in text and "\\x1b]8;;https://evil.example\\x07here" in text
    assert "\x1b]8;" not in raw and "\x1b]52" not in raw  # no hyperlink, no clipboard write
    assert not re.search(r"\x1b\[[0-9;]*1;31m|\x1b\[31;1m", raw)  # no bold red of theirs
