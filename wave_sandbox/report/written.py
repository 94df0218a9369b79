"""Write a run's `report.md` and `report.html` into its record folder (each replaced atomically)."""

from __future__ import annotations

import os
from pathlib import Path

from wave_sandbox.engine.records import RunRecord
from wave_sandbox.report.html_report import render_html
from wave_sandbox.report.markdown_report import render_markdown
from wave_sandbox.report.run_report import build_run_report

REPORT_FILES = ("report.md", "report.html")


def write_run_report(record: RunRecord) -> tuple[Path, Path]:
    report = build_run_report(record)
    markdown, page = (record.folder / name for name in REPORT_FILES)
    _replace(markdown, render_markdown(report))
    _replace(page, render_html(report))
    return markdown, page


def _replace(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
