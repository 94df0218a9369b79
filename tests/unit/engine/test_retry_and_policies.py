"""Wave's retry policy (ResolvePolicy, ComputeDelay, tier escalation) and each contract on_failure."""

from __future__ import annotations

import pytest

from wave_sandbox.contracts import ContractCheck
from wave_sandbox.engine.artifacts import DeclaredArtifact
from wave_sandbox.engine.contract_assessment import ContractVerdict, assess_artifacts
from wave_sandbox.engine.retry_policy import escalated_model, parse_duration, resolve_retry_policy
from wave_sandbox.engine.step_attempts import build_attempt_prompt
from wave_sandbox.engine.step_execution import StepJob
from wave_sandbox.sandbox.contract import CollectedFile
from wave_sandbox.spec.models import Step
from wave_sandbox.spec.retry_rules import retry_problems

REPORT = DeclaredArtifact("report", "out/r.json", "json")


def step(**fields) -> Step:
    return Step.model_validate({"id": "s", "persona": "navigator", **fields})


def test_named_policies_fill_what_the_step_leaves_unset():
    standard = resolve_retry_policy(step(retry={"policy": "standard"}))
    assert (standard.max_attempts, standard.backoff, standard.base_delay_s, standard.max_delay_s) == (3, "exponential", 1, 30)
    patient = resolve_retry_policy(step(retry={"policy": "patient", "max_attempts": 2}))
    assert (patient.max_attempts, patient.base_delay_s, patient.max_delay_s) == (2, 5, 90)
    assert resolve_retry_policy(step(retry={"policy": "aggressive"})).base_delay_s == pytest.approx(0.2)
    assert resolve_retry_policy(step()).max_attempts == 1 and not resolve_retry_policy(step()).declared


def test_delays_follow_wave_compute_delay():
    exponential = resolve_retry_policy(step(retry={"policy": "standard"}))
    assert [exponential.delay_before(n) for n in (2, 3, 6)] == [2, 4, 30]
    linear = resolve_retry_policy(step(retry={"max_attempts": 3, "base_delay": "2s"}))
    assert linear.delay_before(2) == 4 and linear.delay_before(3) == 6
    assert parse_duration("200ms", 1) == pytest.approx(0.2) and parse_duration("1m", 1) == 60 and parse_duration("x", 7) == 7


def test_tiers_escalate_on_retry_and_literal_models_never_do():
    policy = resolve_retry_policy(step(retry={"max_attempts": 3}))
    assert [escalated_model("cheapest", n, policy) for n in (1, 2, 3, 4)] == ["cheapest", "balanced", "strongest", "strongest"]
    assert escalated_model("claude-opus-4", 3, policy) == "claude-opus-4"
    assert escalated_model("cheapest", 2, resolve_retry_policy(step(retry={"no_escalate": True}))) == "cheapest"


def test_optional_steps_continue_and_the_step_policy_is_checked():
    assert resolve_retry_policy(step(optional=True)).on_failure == "continue"
    problems = retry_problems(step(retry={"policy": "eager", "on_failure": "rework"}).retry)
    assert "unknown retry policy 'eager' (valid: none, standard, aggressive, patient)" in problems
    assert "rework_step is required when on_failure is 'rework'" in problems
    assert retry_problems(step(retry={"rework_step": "x"}).retry) == ["rework_step is set but on_failure is 'fail' (must be 'rework')"]


def test_each_attempt_prompt_lists_every_earlier_error():
    prompt = build_attempt_prompt("Do it.", 3, 3, [(1, ["bad a"]), (2, ["bad b"])])
    assert prompt.startswith("Do it.\n\n## This is attempt 3 of 3") and "Attempt 1:\n- bad a" in prompt and "- bad b" in prompt


def judge(*contracts: ContractCheck, same_container_retry: bool = True) -> object:
    job = StepJob("s", "navigator", {}, 60, [], [], [], [REPORT], {}, contracts=list(contracts),
                  same_container_retry=same_container_retry)
    failing = lambda contract, content: ContractVerdict([f"{contract.type} broke"] if "bad" in contract.schema_name else [])
    return assess_artifacts(job, [CollectedFile(REPORT.path, b"{}", None)], failing)


def contract(on_failure: str, bad: bool = True, kind: str = "json_schema") -> ContractCheck:
    return ContractCheck(kind, REPORT.path, on_failure=on_failure, schema_name="bad" if bad else "good")


@pytest.mark.parametrize("policy, result", [("warn", "warning"), ("continue", "soft_failure")])
def test_warn_and_continue_report_and_go_on(policy, result):
    assessment = judge(contract(policy), contract("fail", bad=False, kind="non_empty_file"))
    assert assessment.problems == [] and [r.result for r in assessment.results] == [result, "passed"]
    assert assessment.warnings and REPORT.path not in assessment.contract_failures


def test_skip_stops_checking_and_the_step_passes():
    assessment = judge(contract("skip"), contract("fail", kind="non_empty_file"))
    assert assessment.problems == [] and [r.result for r in assessment.results] == ["skipped"]


def test_fail_halt_retry_rework_and_rejected():
    failed = judge(contract("fail"))
    assert failed.problems == ["json_schema broke"] and not failed.same_container_retry and not failed.halt
    assert judge(contract("retry")).same_container_retry
    assert judge(contract("halt")).halt
    rework = judge(ContractCheck("json_schema", REPORT.path, on_failure="rework", schema_name="bad", rework_step="fix"))
    assert rework.rework_step == "fix" and rework.problems
    rejected = judge(contract("rejected"), contract("fail"))
    assert rejected.rejected.startswith("design rejection: json_schema contract") and len(rejected.results) == 1


def test_must_pass_false_is_a_warning_whatever_on_failure_says():
    advisory = ContractCheck("json_schema", REPORT.path, must_pass=False, on_failure="fail", schema_name="bad")
    assessment = judge(advisory)
    assert assessment.problems == [] and assessment.results[0].result == "warning"


def test_an_interrupted_run_starts_no_further_attempt_and_ends_the_backoff_at_once(monkeypatch):
    import threading
    import time
    from types import SimpleNamespace

    from wave_sandbox.engine import step_attempts
    from wave_sandbox.engine.step_execution import StepOutcome

    ran = []
    monkeypatch.setattr(step_attempts, "execute_attempt", lambda context, job: ran.append(job.attempt) or StepOutcome(False, "bad", 0))
    stopping = threading.Event()
    context = SimpleNamespace(stopping=stopping, on_event=lambda state, message: stopping.set(),
                              record=SimpleNamespace(update_step=lambda *a, **k: None))
    job = StepJob("s", "navigator", None, 60, [], [], [], [], {},
                  retry_policy=resolve_retry_policy(step(retry={"max_attempts": 3, "backoff": "fixed", "base_delay": "60s"})))
    started = time.monotonic()
    outcome = step_attempts.execute_step(context, job)
    assert ran == [1] and not outcome.succeeded and time.monotonic() - started < 5
