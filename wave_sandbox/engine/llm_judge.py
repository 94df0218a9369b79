"""Wave's `llm_judge` contract: one tool-less model call, made on the host, paid from the run's budget.

The judge sees the criteria and the artifact (cut at 50,000 characters, as Wave cuts it) and answers
with Wave's JSON (`criteria_results`, each with `pass`). The score is the share of criteria passed; the
contract holds when it reaches `threshold` (default 1.0). The call goes through the gateway under the
account `<step>.llm_judge` (so the scripted model answers it from that key), with the gateway's checks,
its transcript and the run's token budget; the judge's answer is data, parsed with a bounded reader.
"""

from __future__ import annotations

import re

from wave_sandbox.contracts.json_depth import loads_bounded
from wave_sandbox.gateway.budgets import Budget
from wave_sandbox.text_safety import one_printable_line

MODEL_TIERS = ("cheapest", "balanced", "strongest", "")
JUDGE_MAX_TOKENS = 4096
JUDGE_BUDGET = Budget(max_requests=1, max_tokens=60_000)
CONTENT_LIMIT = 50_000
SYSTEM_PROMPT = """You are an impartial judge. Evaluate the content against each criterion and answer with ONLY
this JSON object, no other text:
{"criteria_results": [{"criterion": "<text>", "pass": true, "reasoning": "<why>"}],
 "overall_pass": true, "score": 0.0, "summary": "<one sentence>"}
Evaluate each criterion independently; score = passing criteria / all criteria."""


def judge_account(step_id: str) -> str:
    return f"{step_id}.llm_judge"


def judge_prompt(criteria: list[str], content: str) -> str:
    listed = "\n".join(f"{number}. {criterion}" for number, criterion in enumerate(criteria, 1))
    shown = content if len(content) <= CONTENT_LIMIT else content[:CONTENT_LIMIT] + "\n\n[... truncated ...]"
    return f"Evaluate the following content against these criteria:\n\n{listed}\n\n--- Content to evaluate ---\n\n{shown}"


def judge_model(contract, step_model: str) -> str:
    """A tier name (or nothing) means the step's own model; a literal id is used as given."""
    wanted = contract.setting("model")
    return step_model if not isinstance(wanted, str) or wanted in MODEL_TIERS else wanted


def check_llm_judge(context, job, contract, content: bytes) -> tuple[list[str], str]:
    """Ask the judge once; the errors (score below threshold, no usable answer) and a note with the score."""
    criteria = [str(c) for c in contract.setting("criteria") or []]
    if not criteria:
        return ["llm_judge needs criteria"], ""
    account = judge_account(job.step_id)
    model = judge_model(contract, job.step_description.model)
    folder = context.record.step_folder(job.step_id)
    context.gateway.register_step(account, folder / "judge.transcript.jsonl", JUDGE_BUDGET,
                                  model=model, max_tokens=JUDGE_MAX_TOKENS, tools=())
    payload = {"model": model, "max_tokens": JUDGE_MAX_TOKENS, "system": SYSTEM_PROMPT,
               "messages": [{"role": "user", "content": judge_prompt(criteria, content.decode("utf-8", "replace"))}]}
    try:
        status, answer = context.gateway.ask_for_host(account, payload)
    finally:
        context.gateway.revoke_step(account)
    if status != 200:
        return [f"the judge's request failed ({status}): {_error_text(answer)}"], ""
    return judged(answer, _threshold(contract))


def judged(answer: object, threshold: float) -> tuple[list[str], str]:
    """Wave's evaluateThreshold on the judge's answer."""
    verdict = _verdict(answer)
    if verdict is None:
        return ["the judge did not answer with the JSON verdict asked for"], ""
    results = [r for r in verdict.get("criteria_results") or [] if isinstance(r, dict)]
    if not results:
        return ["the judge returned no criteria results"], ""
    score = sum(1 for r in results if r.get("pass") is True) / len(results)
    note = f"score {score:.0%} (threshold {threshold:.0%})"
    if score >= threshold:
        return [], note
    failed = [one_printable_line(f"{r.get('criterion', '?')}: {r.get('reasoning', '')}", 300)
              for r in results if r.get("pass") is not True]
    return [f"LLM judge score {score:.0%} is below threshold {threshold:.0%}: " + "; ".join(failed)], note


def _verdict(answer: object) -> dict | None:
    blocks = answer.get("content") if isinstance(answer, dict) else None
    text = next((b.get("text") for b in blocks or [] if isinstance(b, dict) and b.get("type") == "text"), None)
    if not isinstance(text, str):
        return None
    found = re.search(r"\{.*\}", text, re.DOTALL)
    try:
        parsed = loads_bounded(found.group(0)) if found else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _threshold(contract) -> float:
    value = contract.setting("threshold")
    return float(value) if isinstance(value, (int, float)) and value > 0 else 1.0


def _error_text(answer: object) -> str:
    error = answer.get("error") if isinstance(answer, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return one_printable_line(str(message or answer), 300)
