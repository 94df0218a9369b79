"""launch_run with --model openai:ID on the fake backend: the model choice, the notice, the record,
and the agent's Messages turns answered by a scripted Chat Completions server through the gateway."""

from __future__ import annotations

import pytest

from tests.scripted_chat_completions import ScriptedChatServer, text
from tests.unit.engine.fake_runs import FakeProject

ONE_STEP = """\
kind: WavePipeline
metadata:
  name: one
steps:
  - id: only
    persona: summarizer
    exec:
      source: "Say done"
"""


@pytest.fixture
def chat_server():
    server = ScriptedChatServer()
    yield server
    server.stop()


def test_an_openai_run_is_answered_through_the_translation_and_recorded_as_such(tmp_path, chat_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # a local server needs none
    chat_server.turns.append([text("Done through Chat Completions")])
    project = FakeProject(tmp_path, ONE_STEP, {"steps": {}})

    run = project.run(model_spec="openai:gpt-fake", upstream_url=chat_server.base_url)

    assert run.result.status == "completed", run.notices
    assert run.message("only") == "Done through Chat Completions"
    assert run.record()["model"] == "openai:gpt-fake"
    assert chat_server.received[0]["model"] == "gpt-fake"  # the persona's model yields to the explicit one
    assert any("translates the Messages API" in notice for notice in run.notices)


def test_upstream_local_on_another_upstream_is_named_and_ignored(tmp_path):
    project = FakeProject(tmp_path, ONE_STEP, {"steps": {}})
    run = project.run(upstream_local=True)
    assert run.result.status == "completed"
    assert any("--upstream-local changes only an openai: upstream" in notice for notice in run.notices)
