"""`wave-sandbox show RUN`: one run's steps, their status, timings, tokens and summaries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from wave_sandbox.cli.render import format_review_warning
from wave_sandbox.cli.runs_cmd import format_cost
from wave_sandbox.cli.step_control_lines import step_control_lines
from wave_sandbox.text_safety import printable_inline
from wave_sandbox.units import format_seconds as format_duration
from wave_sandbox.units import format_tokens
from wave_sandbox.workspace.acting_files import ActingFile
from wave_sandbox.workspace.repository_root import repository_root


def show_command(
    run: str = typer.Argument(..., help="Run id, a unique prefix of it, or 'latest'."),
    repo: Path = typer.Option(Path("."), "--repo", help="The repository (default: the one holding the cwd)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document: the run and its steps."),
) -> None:
    """Show one run's steps."""
    # Imported when the command runs: run records load the run.json model, which `--help` need not pay for.
    from wave_sandbox.engine.run_lookup import find_run
    from wave_sandbox.engine.run_state import run_state

    recorded = find_run(repository_root(repo), run).run_file
    state = run_state(recorded)  # a run whose process is gone is interrupted, whatever run.json says
    if as_json:
        from wave_sandbox.cli.json_output import print_json

        print_json(show_object(recorded, state))
        return
    # Every value may come from a pipeline, a repository or an agent: each line goes through the sanitizer.
    echo_line(f"Run {recorded.run_id}: {recorded.pipeline} {state.label} "
              f"{format_duration(recorded.duration_ms)}".rstrip())
    echo_line(f"Model: {recorded.model}" + (" (a mock run: every artifact is a stub)" if recorded.mock else ""))
    if recorded.cost_usd is not None:
        echo_line(f"Cost: {format_cost(recorded.cost_usd)} (prices: {recorded.prices or 'unknown'})")
    for line in wave_lines(recorded.wave or {}):
        echo_line(line)
    if recorded.failure:
        echo_line(f"Failure: {recorded.failure}")
    for step_id, step in recorded.steps.items():
        echo_line(
            f"  {printable_inline(step_id):<17} {state.step_statuses.get(step_id, step.status):<10} "
            f"{format_duration(step.duration_ms):>5} "
            f"{format_tokens(step.tokens) if step.tokens else '':>6}"
            f"{cost_column(step.cost_usd) if recorded.cost_usd is not None else ''} {step.summary or ''}".rstrip()
        )
        for outcome in step.outcomes:  # agent-written: escaped by echo_line like every value here
            echo_line(f"    outcome {outcome.get('type', '')}: {outcome.get('label') or 'value'}: {outcome.get('value', '')}")
        for line in step_control_lines(step):
            echo_line(line)
    for step_id, step in recorded.steps.items():
        if step.worktree and step.worktree.get("branch"):  # Wave's worktree branch, recorded; the work is on ours
            echo_line(f"  {printable_inline(step_id)}: workspace branch {step.worktree['branch']} "
                      f"(its changes are on the review branch)")
    if recorded.branch:
        echo_line(f"Branch: {recorded.branch} ({len(recorded.commits)} commit(s))")
        show_acting_files(recorded.branch, recorded.acting_files)


def cost_column(cost_usd: float | None) -> str:
    """The step's cost, in a column only records with costs have (older records keep their lines)."""
    return f" {format_cost(cost_usd):>8}"


def wave_lines(wave: dict[str, Any]) -> list[str]:
    """A Wave project's model tiers (the mapping and who asked for which) and resolved persona names."""
    lines = []
    tiers = wave.get("model_tiers") or {}
    if isinstance(tiers, dict) and tiers:
        asked = {**(wave.get("persona_tiers") or {}), **(wave.get("step_tiers") or {})}
        used = f" (asked by {', '.join(f'{who} {tier}' for who, tier in asked.items())})" if asked else ""
        lines.append("Model tiers: " + ", ".join(f"{tier} -> {model}" for tier, model in tiers.items()) + used)
    personas = wave.get("personas") or {}
    if isinstance(personas, dict) and personas:
        lines.append("Personas resolved: " + ", ".join(f"{step}: {written}" for step, written in personas.items()))
    return lines


def echo_line(line: str) -> None:
    typer.echo(printable_inline(line))


def show_acting_files(branch: str, records: list[dict[str, Any]]) -> None:
    acting = [ActingFile(str(record.get("path", "")), str(record.get("reason", ""))) for record in records]
    for line in format_review_warning(branch, acting):
        echo_line(line)


STEP_KEYS = ("persona", "model", "started_at", "duration_ms", "tokens_in", "tokens_out", "cost_usd", "summary",
             "artifacts", "refusals", "attempts", "contracts")


def show_object(recorded, state) -> dict[str, Any]:
    """The run as `show --json` prints it: its true status and, per step, what `show` lists."""
    steps = {}
    for step_id, step in recorded.steps.items():
        data = step.model_dump(mode="json")
        steps[step_id] = {"status": str(state.step_statuses.get(step_id, step.status)),
                          **{key: data.get(key) for key in STEP_KEYS}}
    return {
        "run_id": recorded.run_id, "pipeline": recorded.pipeline, "status": str(state.status), "reason": state.reason,
        "input": recorded.input, "model": recorded.model, "started_at": recorded.started_at,
        "finished_at": recorded.finished_at, "duration_ms": recorded.duration_ms, "cost_usd": recorded.cost_usd,
        "failure": recorded.failure, "branch": recorded.branch, "commits": recorded.commits,
        "acting_files": recorded.acting_files, "steps": steps,
    }  # fmt: skip
