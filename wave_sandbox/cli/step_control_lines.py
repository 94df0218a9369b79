"""`show`'s lines under a step: its attempts (a `retry:` policy) and its contracts' results."""

from __future__ import annotations

from wave_sandbox.cli.runs_cmd import format_duration

INDENT = "      "


def step_control_lines(step) -> list[str]:
    lines = []
    total = len(step.attempts)
    for attempt in step.attempts if total > 1 else []:
        outcome = "succeeded" if attempt.get("succeeded") else "failed"
        lines.append(f"{INDENT}attempt {attempt.get('attempt')}/{total} {outcome} "
                     f"{format_duration(attempt.get('duration_ms'))}: {attempt.get('message', '')}".rstrip())
    for result in step.contracts:
        mock = " (mock)" if result.get("mock") else ""
        where = f" on {result['source']}" if result.get("source") else ""
        detail = "; ".join(result.get("errors") or []) or result.get("note") or ""
        lines.append(f"{INDENT}contract {result.get('type')}{where}: {result.get('result')}{mock}"
                     f"{' - ' + detail if detail else ''}")
    if step.reworked_by:
        lines.append(f"{INDENT}reworked by {step.reworked_by}")
    return lines
