"""`wave-sandbox logs RUN [STEP]`: what each agent did, from its transcript and its own log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from wave_sandbox.cli.app import app
from wave_sandbox.errors import RunNotFoundError


def summarise_exchange(line: str) -> str:
    try:
        exchange = json.loads(line)
    except ValueError:
        return line.rstrip()
    response = exchange.get("response")
    blocks = response.get("content", []) if isinstance(response, dict) else []
    parts = []
    for block in blocks:
        if block.get("type") == "text":
            parts.append(block.get("text", "").strip().splitlines()[0][:120] if block.get("text") else "")
        elif block.get("type") == "tool_use":
            parts.append(f"{block.get('name')}({json.dumps(block.get('input'))[:100]})")
    return f"[{exchange.get('status')}] " + " | ".join(part for part in parts if part)


@app.command("logs")
def logs_command(
    run: str = typer.Argument(..., help="Run id, a unique prefix of it, or 'latest'."),
    step: Optional[str] = typer.Argument(None, help="Only this step."),
    repo: Path = typer.Option(Path("."), "--repo", help="The repository (default: cwd)."),
) -> None:
    """Print a run's step transcripts and agent logs."""
    from wave_sandbox.engine.run_lookup import find_run

    record = find_run(repo.resolve(), run)
    step_ids = list(record.data.get("steps", {}))
    if step is not None and step not in step_ids:
        raise RunNotFoundError(f"run {record.run_id} has no step '{step}' (steps: {', '.join(step_ids)})")
    for step_id in [step] if step else step_ids:
        folder = record.folder / "steps" / step_id
        typer.echo(f"== {step_id}")
        agent_log = folder / "agent.log"
        if agent_log.is_file():
            typer.echo(agent_log.read_text(errors="replace").rstrip())
        transcript = folder / "transcript.jsonl"
        if transcript.is_file():
            typer.echo("-- model exchanges")
            for line in transcript.read_text(errors="replace").splitlines():
                typer.echo(summarise_exchange(line))
