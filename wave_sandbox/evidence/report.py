"""The evidence as a console summary and as one JSON object.

JSON (times ISO-8601 UTC with milliseconds and Z):

    {"onset": {"start", "end", "evidence": ["FILE:LINE: text", ...], "source": "logs|symptom|none"},
     "signatures": [{"id", "kind", "count", "first_seen", "last_seen", "exception", "frame", "message",
                     "language", "external", "rate_before_per_hour", "rate_after_per_hour", "sample": [...]}, ...],
     "window": {"since", "until", "commits": N},
     "suspects": [{"commit", "rank", "score", "reasons": [...], "files": [...],
                   "subject", "author", "committed_at"}, ...],
     "confident": bool,
     "verdict": "...",
     "external_cause": null | {"kind", "target", "description", "signature"}, "symptom": {...}, "logs": {...}, "notes": [...]}

`commit` is the full id; rank 1 is the most likely; `confident` says whether rank 1 is put forward as
the cause (when false, the verdict says "No recent change explains this" or why not). A signature's
`language` is the language of its stack trace (python, jvm, go, javascript, ruby, dotnet, rust, php)
and `external` the kind of outside cause its text reads as (dns, tls, rate-limit, database,
upstream-5xx, timeout, connection, resources). `external_cause` is set when most of the incident's
errors point outside the code: `description` names it in words; no commit is then the cause.
"""

from __future__ import annotations

from wave_sandbox.evidence.collect import Evidence
from wave_sandbox.evidence.signatures import Signature
from wave_sandbox.evidence.suspects import Suspect
from wave_sandbox.evidence.timestamps import format_utc, format_utc_short

__all__ = ["evidence_to_json", "render_console"]

SIGNATURES_LISTED = 20
SUSPECTS_LISTED = 20
FILES_LISTED = 20
SIGNATURES_SHOWN = 6
SUSPECTS_SHOWN = 5
REASONS_SHOWN = 6


def evidence_to_json(evidence: Evidence) -> dict:
    onset = evidence.onset
    return {
        "onset": {
            "start": format_utc(onset.start),
            "end": format_utc(onset.end),
            "evidence": [str(line) for line in onset.evidence],
            "source": onset.source,
        },
        "signatures": [_signature_json(signature) for signature in evidence.signatures[:SIGNATURES_LISTED]],
        "window": {
            "since": format_utc(evidence.window.since),
            "until": format_utc(evidence.window.until),
            "commits": evidence.window.commits,
        },
        "suspects": [_suspect_json(suspect, rank) for rank, suspect in enumerate(evidence.suspects[:SUSPECTS_LISTED], 1)],
        "confident": evidence.confident,
        "verdict": evidence.verdict,
        "external_cause": evidence.external_cause,
        "symptom": _symptom_json(evidence),
        "logs": _logs_json(evidence),
        "notes": evidence.notes,
    }


def _signature_json(signature: Signature) -> dict:
    frame = signature.frame
    return {
        "id": signature.id,
        "kind": signature.kind,
        "count": signature.count,
        "first_seen": format_utc(signature.first_seen),
        "last_seen": format_utc(signature.last_seen),
        "exception": signature.exception,
        "language": signature.language,
        "external": signature.external[0] if signature.external else None,
        "frame": f"{frame.path}:{frame.line} in {frame.function}" if frame else None,
        "message": signature.message,
        "rate_before_per_hour": round(signature.rate_before_per_hour, 2),
        "rate_after_per_hour": round(signature.rate_after_per_hour, 2),
        "sample": [str(line) for line in (signature.samples[0] if signature.samples else [])],
    }


def _suspect_json(suspect: Suspect, rank: int) -> dict:
    change = suspect.change
    return {
        "commit": change.commit,
        "rank": rank,
        "score": suspect.score,
        "reasons": [reason.text for reason in suspect.reasons],
        "files": [changed.path for changed in change.files[:FILES_LISTED]],
        "subject": change.subject,
        "author": change.author,
        "committed_at": format_utc(change.time),
    }


def _symptom_json(evidence: Evidence) -> dict:
    hints = evidence.symptom
    return {
        "text": hints.text,
        "times": [
            {"text": hint.text, "utc": format_utc(moment)} for hint, moment in zip(hints.times, evidence.symptom_times)
        ],
        "endpoints": hints.endpoints,
        "statuses": hints.statuses,
    }


def _logs_json(evidence: Evidence) -> dict:
    files = evidence.logs.files
    return {
        "files": [summary.source for summary in files],
        "exports": {summary.source: summary.export for summary in files if summary.export},
        "lines": sum(summary.lines for summary in files),
        "untimed_lines": sum(summary.untimed_lines for summary in files),
        "untimed_examples": [example for summary in files for example in summary.untimed_examples][:10],
        "skipped": evidence.logs.skipped,
    }


def render_console(evidence: Evidence) -> str:
    """The readable summary: onset, top signatures, top suspects with reasons, the verdict."""
    sections = [_header(evidence), _onset_section(evidence), _signature_section(evidence), _suspect_section(evidence)]
    sections.append(("Verdict: " if evidence.confident else "") + evidence.verdict)
    if evidence.notes:
        sections.append("Notes:\n" + "\n".join(f"  - {note}" for note in evidence.notes))
    return "\n\n".join(section for section in sections if section) + "\n"


def _header(evidence: Evidence) -> str:
    logs = _logs_json(evidence)
    line = f"Evidence for {evidence.repository}: {len(logs['files'])} log files, {logs['lines']:,} lines"
    if logs["lines"]:
        line += f", {logs['untimed_lines']:,} without a time" if logs["untimed_lines"] else ", every line dated"
    extra = [f"  no time: {example}" for example in logs["untimed_examples"][:5]]
    extra += [f"  skipped: {skipped}" for skipped in logs["skipped"]]
    return "\n".join([line] + extra)


def _onset_section(evidence: Evidence) -> str:
    onset = evidence.onset
    if onset.start is None:
        lines = ["Onset: not found (no new or surging errors in the logs, no time in the symptom)"]
    else:
        origin = {"logs": "from the logs", "symptom": "from the symptom (no onset in the logs)"}[onset.source]
        lines = [f"Onset: {format_utc_short(onset.start)}, established by {format_utc_short(onset.end)}, {origin}"]
    for hint, moment in zip(evidence.symptom.times, evidence.symptom_times):
        lines.append(f'  symptom says "{hint.text}" = {format_utc_short(moment)}')
    lines += [f"  {line}" for line in onset.evidence]
    return "\n".join(lines)


def _signature_section(evidence: Evidence) -> str:
    if not evidence.signatures:
        return "Errors: none found in the logs"
    shown = evidence.signatures[:SIGNATURES_SHOWN]
    lines = [f"Errors by signature ({len(shown)} of {len(evidence.signatures)}):"]
    for signature in shown:
        seen = f"{format_utc_short(signature.first_seen)} to {format_utc_short(signature.last_seen)}"
        lines.append(f"  {signature.kind:<12} {signature.count:>7,}  {seen}  {_signature_title(signature)}")
    return "\n".join(lines)


def _signature_title(signature: Signature) -> str:
    if signature.exception and signature.frame:
        return f"{signature.exception} at {signature.frame.path}:{signature.frame.line} in {signature.frame.function}"
    if signature.exception:
        return f"{signature.exception}: {signature.message[:100]}"
    return signature.message[:120]


def _suspect_section(evidence: Evidence) -> str:
    window = evidence.window
    lines = [
        f"Changes {format_utc_short(window.since)} to {format_utc_short(window.until)}: {window.commits} commits"
        + (" (window widened)" if window.widened else "")
    ]
    for rank, suspect in enumerate(evidence.suspects[:SUSPECTS_SHOWN], 1):
        change = suspect.change
        who = f"({change.author}, {format_utc_short(change.time)})"
        lines.append(f"  {rank}. {change.commit[:7]}  score {suspect.score:5.2f}  {change.subject}  {who}")
        lines += [f"       - {reason.text}" for reason in suspect.reasons[:REASONS_SHOWN]]
    return "\n".join(lines)
