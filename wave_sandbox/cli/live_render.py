"""The live console (Rich), for a terminal: one updating line per running step, above which each
finished step settles into the seed's line.

A running step's line: a spinner, its id and persona, the time since it started, what it is doing
(the tool call its model asked for last), and its tokens so far. Everything printed is the plain
renderer's text (`format_step_line`, `format_run_summary`), so the seed's lines read the same; every
text goes in as a Rich `Text` after the sanitizer, never as markup, so an agent's `[bold]` or escape
sequence is shown, not obeyed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from wave_sandbox.cli.render import ConsoleRenderer, format_step_line
from wave_sandbox.engine import events as ev
from wave_sandbox.engine.events import RunEvent
from wave_sandbox.text_safety import printable_inline
from wave_sandbox.units import format_tokens

ACTIVITY_COLUMN = 60


class LiveConsoleRenderer(ConsoleRenderer):
    def __init__(self, stream: TextIO | None = None, error_stream: TextIO | None = None, repo: Path | None = None):
        super().__init__(stream, error_stream, repo)
        self.console = Console(file=self.stream, highlight=False, soft_wrap=True)
        self.running: dict[str, dict] = {}
        self.live = Live(Group(), console=self.console, refresh_per_second=4, transient=True,
                         get_renderable=self._renderable)

    def __call__(self, event: RunEvent) -> None:
        if event.state == ev.RUN_STARTED:
            self.live.start()
            return
        if event.state in ev.LIVE_STATES:
            self._update(event)
            return
        if event.state in ev.RUN_END_STATES:
            self.running.clear()
            self.live.stop()
            super().__call__(event)
            return
        self._settle(event)

    def _update(self, event: RunEvent) -> None:
        entry = self.running.get(event.step_id or "")
        if entry is not None:
            entry.update(activity=event.activity or "", tokens=(event.tokens_in or 0) + (event.tokens_out or 0))

    def _settle(self, event: RunEvent) -> None:
        if event.state == ev.STEP_STARTED:
            self.running[event.step_id or ""] = {"persona": event.persona, "started": time.monotonic(),
                                                 "activity": "starting", "tokens": 0}
        else:
            self.running.pop(event.step_id or "", None)
        self.console.print(Text(printable_inline(format_step_line(event))))

    def _renderable(self):
        table = Table.grid(padding=(0, 1))
        for step_id, entry in list(self.running.items()):
            elapsed = int(time.monotonic() - entry["started"])
            persona = f"({entry['persona']})" if entry["persona"] else ""
            tokens = f"{format_tokens(entry['tokens'])} tokens" if entry["tokens"] else ""
            table.add_row(
                Spinner("dots", style="cyan"), Text(printable_inline(f"{step_id:<17} {persona:<14}")),
                Text(f"{elapsed // 60}:{elapsed % 60:02d}", style="bold"),
                Text(printable_inline(entry["activity"])[:ACTIVITY_COLUMN], style="dim"), Text(tokens, style="dim"),
            )
        return table
