"""`wave-sandbox logs RUN [STEP]`: what each agent did, from its transcript and its own log.

`--tail N` keeps the last N entries of each step; `--follow` keeps printing model exchanges as the
gateway appends them (and each agent's log when its step ends) until the run is no longer alive;
`--json` prints one object per entry: `{"step_id", "kind": "agent_log" | "exchange", ...}`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable, Optional

import typer

from wave_sandbox.errors import RunNotFoundError
from wave_sandbox.text_safety import one_printable_line, printable_inline, printable_text
from wave_sandbox.workspace.repository_root import repository_root

FOLLOW_POLL_S = 0.5


def exchange_entry(line: str) -> dict:
    """One model exchange as an entry: its time, status, the first line of each text, each tool call."""
    try:
        exchange = json.loads(line)
    except ValueError:
        return {"kind": "exchange", "time": None, "status": None, "parts": [one_printable_line(line, 300)]}
    exchange = exchange if isinstance(exchange, dict) else {}
    response = exchange.get("response")
    blocks = response.get("content", []) if isinstance(response, dict) else []
    if isinstance(response, list):  # a streamed response: its events, assembled into its blocks
        from wave_sandbox.engine.step_activity import streamed_content

        blocks = streamed_content(response)
    parts = []
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, dict) and block.get("type") == "text":
            parts.append(one_printable_line(str(block.get("text") or ""), 120))
        elif isinstance(block, dict) and block.get("type") == "tool_use":
            tool_input = json.dumps(block.get("input"))[:100]
            parts.append(f"{one_printable_line(str(block.get('name')), 60)}({printable_inline(tool_input)})")
    return {"kind": "exchange", "time": exchange.get("time"), "status": exchange.get("status"),
            "parts": [part for part in parts if part]}


def summarise_exchange(line: str) -> str:
    entry = exchange_entry(line)
    return f"[{one_printable_line(str(entry['status']), 40)}] " + " | ".join(entry["parts"])


class StepLogs:
    """One step's agent log and transcript, read from where the last read stopped."""

    def __init__(self, folder: Path):
        self.folder, self.offset, self.partial, self.log_shown = folder, 0, b"", False

    def agent_log(self) -> list[str]:
        path = self.folder / "agent.log"
        if self.log_shown or not path.is_file():
            return []
        self.log_shown = True
        # Bytes, then text: reading as text would turn a lone carriage return into a line break.
        return printable_text(path.read_bytes().decode("utf-8", "replace").rstrip()).splitlines()

    def exchanges(self) -> list[str]:
        try:
            with open(self.folder / "transcript.jsonl", "rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except OSError:
            return []
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        return [line.decode("utf-8", "replace") for line in lines if line.strip()]


def logs_command(
    run: str = typer.Argument(..., help="Run id, a unique prefix of it, or 'latest'."),
    step: Optional[str] = typer.Argument(None, help="Only this step."),
    repo: Path = typer.Option(Path("."), "--repo", help="The repository (default: the one holding the cwd)."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing until the run ends."),
    tail: Optional[int] = typer.Option(None, "--tail", min=0, help="Only the last N entries of each step."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per entry."),
) -> None:
    """Print a run's step transcripts and agent logs."""
    # Imported when the command runs: run records load the run.json model, which `--help` need not pay for.
    from wave_sandbox.engine.liveness import is_run_alive
    from wave_sandbox.engine.run_lookup import find_run

    record = find_run(repository_root(repo), run)
    step_ids = list(record.run_file.steps)
    if step is not None and step not in step_ids:
        raise RunNotFoundError(f"run {record.run_id} has no step '{step}' (steps: {', '.join(step_ids)})")
    show = json_printer if as_json else text_printer()
    sources: dict[str, StepLogs] = {}
    first = True
    while True:
        alive = follow and is_run_alive(record.run_id)
        for step_id in [step] if step else list(record.run_file.steps):
            logs = sources.setdefault(step_id, StepLogs(record.folder / "steps" / step_id))
            entries = [{"kind": "agent_log", "line": line} for line in logs.agent_log()]
            entries += [exchange_entry(line) for line in logs.exchanges()]
            if first and tail is not None:
                entries = entries[-tail:] if tail else []
            for entry in entries:
                show(step_id, entry)
        if not alive:
            return
        first = False
        time.sleep(FOLLOW_POLL_S)
        record = find_run(repository_root(repo), record.run_id)  # steps that started since


def json_printer(step_id: str, entry: dict) -> None:
    from wave_sandbox.cli.json_output import print_json_line

    print_json_line({"step_id": step_id, **entry})


def text_printer() -> Callable[[str, dict], None]:
    """The plain form: a `== step` header when the step changes, then its entries."""
    state = {"step": None}

    def show(step_id: str, entry: dict) -> None:
        if state["step"] != step_id:
            state["step"] = step_id
            typer.echo(f"== {printable_inline(step_id)}")
        if entry["kind"] == "agent_log":
            typer.echo(entry["line"])
        else:
            typer.echo(f"[{one_printable_line(str(entry['status']), 40)}] " + " | ".join(entry["parts"]))

    return show
