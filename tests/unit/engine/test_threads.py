"""Wave threads: the earlier steps' final answers of the same thread, before a later step's prompt."""

from __future__ import annotations

from wave_sandbox.engine.threads import save_thread_answer, thread_context
from wave_sandbox.spec.models import Pipeline
from wave_sandbox.spec.personas import Persona, PersonaLimits, effective_tools
from wave_sandbox.spec.models import Step


def pipeline(fidelity: str | None = None) -> Pipeline:
    last = {"id": "c", "persona": "p", "thread": "t", "exec": {"source": "x"}}
    if fidelity:
        last["fidelity"] = fidelity
    return Pipeline.model_validate({"kind": "WavePipeline", "metadata": {"name": "n"}, "steps": [
        {"id": "a", "persona": "p", "thread": "t", "exec": {"source": "x"}},
        {"id": "other", "persona": "p", "thread": "u", "exec": {"source": "x"}},
        {"id": "b", "persona": "p", "thread": "t", "exec": {"source": "x"}},
        last,
    ]})


def answered(tmp_path, p: Pipeline):
    for step_id, text in (("a", "first " + "x" * 600), ("other", "not mine"), ("b", "second")):
        (tmp_path / step_id).mkdir(exist_ok=True)
        save_thread_answer(tmp_path / step_id, p.step(step_id), text)
    (tmp_path / "c").mkdir(exist_ok=True)
    return lambda step_id: tmp_path / step_id


def test_full_fidelity_gives_every_earlier_answer_of_the_thread(tmp_path):
    p = pipeline()
    context = thread_context(p, p.step("c"), answered(tmp_path, p))
    assert context.startswith("## THREAD CONTEXT\n\nThe following is conversation history from prior steps in this thread group.\n\n## Step: a at ")
    assert "second" in context and "not mine" not in context and context.endswith("\n---\n\n")
    assert thread_context(p, p.step("a"), answered(tmp_path, p)) == ""


def test_compact_cuts_each_answer_and_fresh_gives_none(tmp_path):
    p = pipeline("compact")
    context = thread_context(p, p.step("c"), answered(tmp_path, p))
    assert "### a (completed)\nfirst " + "x" * 494 + "...\n\n### b (completed)\nsecond\n\n" in context
    assert thread_context(pipeline("fresh"), pipeline("fresh").step("c"), answered(tmp_path, p)) == ""


def test_step_permissions_narrow_with_wave_rules():
    persona = Persona(name="p", description="", system_prompt="s", tools=["bash", "read_file", "write_file", "edit_file"],
                      model=None, max_tokens=1, max_turns=1, limits=PersonaLimits())
    step = Step.model_validate({"id": "s", "permissions": {"allowed_tools": ["Read", "Bash(git log*)", "Edit"], "deny": ["Edit", "Bash(rm*)"]}})
    assert effective_tools(persona, step) == ["bash", "read_file"]
    assert effective_tools(persona, Step.model_validate({"id": "s", "permissions": {"allowed_tools": ["*"]}})) == persona.tools
