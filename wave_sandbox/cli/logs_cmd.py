"""`wave-sandbox logs RUN [STEP]`: what each agent did, from its transcript and its own log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from wave_sandbox.errors import RunNotFoundError
from wave_sandbox.text_safety import one_printable_line, printable_inline, printable_text
from wave_sandbox.workspace.repository_root import repository_root


def summarise_exchange(line: str) -> str:
    """One printable line per model exchange: its status, the first line of each text, each tool call."""
    try:
        exchange = json.loads(line)
    except ValueError:
        return one_printable_line(line, 300)
    response = exchange.get("response") if isinstance(exchange, dict) else None
    blocks = response.get("content", []) if isinstance(response, dict) else []
    parts = []
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            parts.append(one_printable_line(str(block.get("text") or ""), 120))
        elif block.get("type") == "tool_use":
            tool_input = json.dumps(block.get("input"))[:100]
            parts.append(f"{one_printable_line(str(block.get('name')), 60)}({printable_inline(tool_input)})")
    status = exchange.get("status") if isinstance(exchange, dict) else None
    return f"[{one_printable_line(str(status), 40)}] " + " | ".join(part for part in parts if part)


def logs_command(
    run: str = typer.Argument(..., help="Run id, a unique prefix of it, or 'latest'."),
    step: Optional[str] = typer.Argument(None, help="Only this step."),
    repo: Path = typer.Option(Path("."), "--repo", help="The repository (default: the one holding the cwd)."),
) -> None:
    """Print a run's step transcripts and agent logs."""
    # Imported when the command runs: run records load the run.json model, which `--help` need not pay for.
    from wave_sandbox.engine.run_lookup import find_run

    record = find_run(repository_root(repo), run)
    step_ids = list(record.run_file.steps)
    if step is not None and step not in step_ids:
        raise RunNotFoundError(f"run {record.run_id} has no step '{step}' (steps: {', '.join(step_ids)})")
    for step_id in [step] if step else step_ids:
        folder = record.folder / "steps" / step_id
        typer.echo(f"== {printable_inline(step_id)}")
        agent_log = folder / "agent.log"
        if agent_log.is_file():  # the agent's stderr: model text and tool output may pass through it
            # Bytes, then text: reading as text would turn a lone carriage return into a line break.
            typer.echo(printable_text(agent_log.read_bytes().decode("utf-8", "replace").rstrip()))
        transcript = folder / "transcript.jsonl"
        if transcript.is_file():
            typer.echo("-- model exchanges")
            for line in transcript.read_bytes().decode("utf-8", "replace").split("\n"):
                if not line.strip():
                    continue
                typer.echo(summarise_exchange(line))
