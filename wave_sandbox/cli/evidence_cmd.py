"""`wave-sandbox evidence`: the deterministic evidence pass (no Docker, no model).

    wave-sandbox evidence --repo DIR --logs PATH... [--symptom TEXT] [--window-hours N] [--json]

The same code runs inside the agent image as `wave-evidence` (wave_sandbox/evidence). `--logs` takes
one path, and the paths after the options are logs too, so `--logs a.log b/ c.gz` works as it does
there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from wave_sandbox.errors import ConfigurationError
from wave_sandbox.text_safety import printable_text

LogsOption = Annotated[
    Optional[list[Path]],
    typer.Option("--logs", help="A log file or folder (plain, JSON lines, .gz); repeatable.", show_default=False),
]
MoreLogs = Annotated[
    Optional[list[Path]],
    typer.Argument(help="More log files or folders.", metavar="PATH", show_default=False),
]
WindowOption = Annotated[
    float, typer.Option("--window-hours", help="Hours of commits before the onset (widened below 3 commits).")
]
SymptomOption = Annotated[
    Optional[str], typer.Option("--symptom", help='The incident in words, e.g. "500s on /api/orders since 14:30 UTC".')
]
RepoOption = Annotated[Path, typer.Option("--repo", help="The service's git checkout (default: the current folder).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the summary.")]


def evidence_command(
    more_logs: MoreLogs = None,
    repo: RepoOption = Path("."),
    logs: LogsOption = None,
    symptom: SymptomOption = None,
    window_hours: WindowOption = 72.0,
    as_json: JsonOption = False,
) -> None:
    """When it started, what error it is, and which recent commits explain it, from logs and git."""
    from wave_sandbox.evidence.cli import run_evidence
    from wave_sandbox.evidence.errors import EvidenceError

    paths = [str(path) for path in [*(logs or []), *(more_logs or [])]]
    try:
        output = run_evidence(str(repo), paths, symptom, window_hours, as_json)
    except EvidenceError as error:
        raise ConfigurationError(str(error)) from error
    typer.echo(printable_text(output), nl=False)  # log lines and commit subjects are the repository's words
