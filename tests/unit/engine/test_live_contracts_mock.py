"""The contract-checking entry point's `mock` flag (set by `--model mock`): contracts that would ask a
model pass without a call, marked as mock; the others are still checked."""

from __future__ import annotations

from types import SimpleNamespace

from wave_sandbox.contracts import ContractCheck
from wave_sandbox.engine.contract_assessment import ContractResult
from wave_sandbox.engine.live_contracts import LiveContracts


class NoModel:
    """A gateway that fails the test if anything asks it for a model call."""

    def __getattr__(self, name):
        raise AssertionError(f"a mock contract check used the gateway ({name})")


def live(mock: bool | None, description: str = "scripted:x.yaml") -> LiveContracts:
    run = SimpleNamespace(infrastructure=SimpleNamespace(model_description=description))
    context = SimpleNamespace(gateway=NoModel())
    return LiveContracts(run, context, SimpleNamespace(step_id="s"), mock=mock)


def test_model_contracts_pass_as_mock_without_a_call():
    for kind in ("llm_judge", "agent_review"):
        verdict = live(mock=True)(ContractCheck(kind, "out/r.md", settings=(("criteria", ["x"]),)), b"text")
        assert verdict.errors == [] and verdict.mock
        result = ContractResult(kind, "out/r.md", "passed", "fail", verdict.errors, verdict.mock, verdict.note)
        assert "passed (mock)" in result.message()


def test_the_flag_follows_the_mock_model_unless_set():
    assert live(mock=None, description="mock").mock and not live(mock=None).mock


def test_content_contracts_are_still_checked_under_mock():
    verdict = live(mock=True)(ContractCheck("non_empty_file", "out/r.md"), b"  ")
    assert verdict.errors == ["out/r.md (non_empty_file): the file is empty"] and not verdict.mock


def test_event_contains_reads_the_step_s_own_events_from_the_record(tmp_path):
    events = [{"state": "retrying", "step_id": "s", "message": "attempt 2/3 after: x"},
              {"state": "contract_failed", "step_id": "other", "message": "json_schema failed"}]
    (tmp_path / "events.jsonl").write_text("\n".join(map(__import__("json").dumps, events)) + "\n")
    run = SimpleNamespace(infrastructure=SimpleNamespace(model_description="scripted:x"), record=SimpleNamespace(folder=tmp_path))
    checker = LiveContracts(run, SimpleNamespace(gateway=NoModel()), SimpleNamespace(step_id="s"))
    wanted = lambda *patterns: ContractCheck("event_contains", "", settings=(("events", list(patterns)),))
    assert checker(wanted({"state": "retrying", "contains": "attempt 2/3"}), None).errors == []
    assert checker(wanted({"state": "contract_failed"}, {"state": "retrying", "contains": "4/4"}), None).errors == [
        "missing 2 expected event(s): contract_failed, retrying containing '4/4'"]
