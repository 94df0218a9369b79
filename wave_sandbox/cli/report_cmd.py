"""`wave-sandbox report RUN [--open]`: write (again) and show a run's report.md and report.html.

Every `run` and `resume` writes the report when the run ends (`ReportWriter`, an event listener), so
this command is for runs whose process was killed, for records of an older version, and for `--open`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from wave_sandbox.text_safety import printable_inline


def report_command(
    run: str = typer.Argument(..., help="Run id, a unique prefix of it, or 'latest'."),
    repo: Path = typer.Option(Path("."), "--repo", help="The repository (default: cwd)."),
    open_page: bool = typer.Option(False, "--open", help="Open report.html in the browser."),
) -> None:
    """Write a run's report (Markdown and a self-contained HTML page) and print where it is."""
    from wave_sandbox.engine.run_lookup import find_run
    from wave_sandbox.report.written import write_run_report

    markdown, page = write_run_report(find_run(repo.resolve(), run))
    typer.echo(printable_inline(str(markdown)))
    typer.echo(printable_inline(str(page)))
    if open_page:
        import webbrowser

        if not webbrowser.open(page.as_uri()):
            typer.echo(f"warning: no browser to open; open {printable_inline(page.as_uri())} yourself", err=True)


class ReportWriter:
    """Writes the report when the run ends (completed, failed or interrupted) and says where, on stderr."""

    def __init__(self, repo: Path, error_stream=None):
        self.repo = repo
        self.error_stream = error_stream or sys.stderr

    def __call__(self, event) -> None:
        from wave_sandbox.engine.events import RUN_END_STATES

        if event.state not in RUN_END_STATES:
            return
        from wave_sandbox.engine.records import RunRecord
        from wave_sandbox.report.written import write_run_report

        try:
            _, page = write_run_report(RunRecord.load(self.repo, event.run_id))
        except Exception as error:  # the run's work is done and recorded; a report problem must not hide it
            print(f"warning: the run report was not written ({type(error).__name__}: "
                  f"{printable_inline(str(error))}); `wave-sandbox report {event.run_id}` tries again",
                  file=self.error_stream, flush=True)
            return
        print(f"Report: {printable_inline(_shown(page))}", file=self.error_stream, flush=True)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
