"""`report.html`: the run report as one self-contained page (no network, no script).

Every text from agents, models and the repository passes the sanitizer and `html.escape`; Markdown
artifacts are rendered by markdown-it with raw HTML off (so a `<script>` in one is shown as text), its
link check on (no `javascript:` link) and images off (an image is a fetch the moment the page opens). The page's content security policy forbids scripts, frames, forms and every fetch,
images included but `data:`, so even a rendering bug cannot make the page act or call out.
"""

from __future__ import annotations

import html

from wave_sandbox.on_demand import OnDemand
from wave_sandbox.report.run_report import ArtifactView, RunReport, StepView
from wave_sandbox.report.page_style import PAGE_STYLE, STATUS_COLOURS
from wave_sandbox.text_safety import one_printable_line, printable_text
from wave_sandbox.units import format_seconds, format_tokens

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# markdown-it loads with the first Markdown artifact shown (a report without one does not pay for it)
_RENDERERS = OnDemand({"markdown": "wave_sandbox.report.markdown_html:render_markdown"})


def render_html(report: RunReport) -> str:
    run = report.run
    title = f"Run {run.run_id}: {run.pipeline}"
    body = [
        f"<h1>{_text(title)}</h1>", _overview(report), _timeline(report),
        *(_step(step) for step in report.steps), _evidence(report), _branch(report),
    ]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CONTENT_SECURITY_POLICY}\">"
        "<meta name=\"referrer\" content=\"no-referrer\">"
        f"<title>{_text(title)}</title><style>{PAGE_STYLE}</style></head>\n<body>\n"
        + "\n".join(part for part in body if part) + "\n</body></html>\n"
    )


def _overview(report: RunReport) -> str:
    run = report.run
    costs = [step.cost_usd for step in report.steps if step.cost_usd is not None]
    rows = [("Status", f"{run.status}" + (f": {run.failure}" if run.failure else "")),
            ("Started", run.started_at or "?"), ("Duration", format_seconds(run.duration_ms) or "?"),
            ("Model", run.model or "?"), ("Input", run.input),
            ("Tokens", format_tokens(sum(step.record.tokens for step in report.steps)))]
    if costs:
        rows.append(("Cost", f"${sum(costs):.4f}"))
    cells = "".join(f"<tr><th>{_text(name)}</th><td>{_text(value)}</td></tr>" for name, value in rows)
    return f"<table class=\"overview\">{cells}</table>"


def _timeline(report: RunReport) -> str:
    total = report.total_s
    rows = []
    for step in report.steps:
        record = step.record
        left = 100 * step.offset_s / total
        width = max(0.8, 100 * (record.duration_ms or 0) / 1000 / total)
        colour = STATUS_COLOURS.get(str(record.status), STATUS_COLOURS["pending"])
        label = f"{step.step_id} ({record.persona or '?'})"
        detail = f"{record.status} {format_seconds(record.duration_ms)} {format_tokens(record.tokens or None)}"
        rows.append(
            f"<div class=\"lane\"><span class=\"name\">{_text(label)}</span><span class=\"track\">"
            f"<span class=\"bar\" style=\"left:{left:.2f}%;width:{min(width, 100 - left):.2f}%;"
            f"background:{colour}\"></span></span><span class=\"when\">{_text(detail)}</span></div>"
        )
    return f"<section id=\"timeline\"><h2>Timeline</h2>{''.join(rows)}</section>"


def _step(step: StepView) -> str:
    record = step.record
    facts = [("status", str(record.status)), ("persona", record.persona or ""), ("model", record.model or ""),
             ("started", f"+{step.offset_s:.0f}s"), ("duration", format_seconds(record.duration_ms)),
             ("tokens", f"{record.tokens_in or 0} in, {record.tokens_out or 0} out"),
             ("retries", str(len(record.retry_errors)))]
    if step.cost_usd is not None:
        facts.append(("cost", f"${step.cost_usd:.4f}"))
    notes = "".join(f"<li>{_text(note)}</li>" for note in [*record.refusals, *record.retry_errors])
    parts = [
        f"<section class=\"step\" id=\"step-{_attribute(step.step_id)}\"><h2>Step {_text(step.step_id)}</h2>",
        "<p class=\"facts\">" + " · ".join(f"{name}: {_text(value)}" for name, value in facts) + "</p>",
        f"<p class=\"summary\">{_text(record.summary or '')}</p>",
        f"<ul class=\"notes\">{notes}</ul>" if notes else "",
        *(_artifact(artifact) for artifact in step.artifacts), "</section>",
    ]
    return "".join(parts)


def _artifact(artifact: ArtifactView) -> str:
    cut = " (first 64 KiB)" if artifact.truncated else ""
    head = f"<h3>{_text(artifact.name)} <small>{artifact.size} bytes{cut}</small></h3>"
    if artifact.kind == "markdown":
        return f"<details open><summary>{head}</summary><div class=\"markdown\">" \
               f"{_RENDERERS['markdown'](printable_text(artifact.text))}</div></details>"
    return f"<details><summary>{head}</summary><pre>{_block(artifact.shown_text)}</pre></details>"


def _evidence(report: RunReport) -> str:
    found = report.suspects
    if found is None:
        return ""
    items = "".join(
        f"<li><code>{_text(suspect.commit[:12])}</code> {_text(suspect.subject)} "
        f"<small>score {suspect.score:g}</small><ul>"
        + "".join(f"<li>{_text(reason)}</li>" for reason in suspect.reasons) + "</ul></li>"
        for suspect in found.suspects
    )
    return (f"<section id=\"evidence\"><h2>Evidence</h2><p>From step {_text(found.step_id)}: "
            f"{_text(found.verdict)}</p><ol>{items}</ol></section>")


def _branch(report: RunReport) -> str:
    run = report.run
    if not run.branch:
        return ""
    parts = [f"<section id=\"branch\"><h2>Review branch</h2><p><code>{_text(run.branch)}</code> "
             f"({len(run.commits)} commit(s))</p>"]
    if report.acting_files:
        listed = "".join(f"<li><code>{_text(path)}</code>: {_text(reason)}</li>" for path, reason in report.acting_files)
        parts.append("<div class=\"warning\">Review before checking it out or building it: these files act when "
                     f"checked out or built:<ul>{listed}</ul></div>")
    if report.diff_problem:
        parts.append(f"<p>{_text(report.diff_problem)}</p>")
    elif report.diff is not None:
        parts.append(f"<pre class=\"stat\">{_block(report.diff.stat)}</pre>")
        parts.append(f"<pre class=\"diff\">{_diff_lines(report.diff.diff)}</pre>")
        if report.diff_truncated:
            parts.append("<p>(diff cut at 512 KiB)</p>")
    return "".join(parts) + "</section>"


def _diff_lines(diff: str) -> str:
    lines = []
    for line in printable_text(diff).splitlines():
        kind = ("add" if line.startswith("+") and not line.startswith("+++") else
                "del" if line.startswith("-") and not line.startswith("---") else
                "hunk" if line.startswith("@@") else "file" if line.startswith("diff --git") else "")
        lines.append(f"<span class=\"{kind}\">{html.escape(line)}</span>" if kind else html.escape(line))
    return "\n".join(lines)


def _text(text: str | None) -> str:
    return html.escape(one_printable_line(text or "", 2000))


def _attribute(text: str) -> str:
    return html.escape("".join(c if c.isalnum() or c in "-_" else "-" for c in text), quote=True)


def _block(text: str) -> str:
    return html.escape(printable_text(text))
