"""The evidence pass from end to end: logs → signatures → onset → window → suspects → verdict.

Standard library and the `git` binary only: the same code runs on the host (`wave-sandbox evidence`)
and inside the agent image (`wave-evidence`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from wave_sandbox.evidence import changes
from wave_sandbox.evidence.changes import CommitChange
from wave_sandbox.evidence.clues import ErrorClues, gather_clues
from wave_sandbox.evidence.external_causes import describe
from wave_sandbox.evidence.frames import RepositoryFiles
from wave_sandbox.evidence.gitrepo import GitRepository, open_repository
from wave_sandbox.evidence.logs import LogScan, scan_logs
from wave_sandbox.evidence.onset import Onset, find_onset
from wave_sandbox.evidence.signatures import Signature, SignatureBook
from wave_sandbox.evidence.suspects import Suspect, rank_suspects
from wave_sandbox.evidence.symptom import SymptomHints, read_symptom, resolve_symptom_time

__all__ = ["Evidence", "EvidenceRequest", "Window", "collect_evidence"]

DEFAULT_WINDOW_HOURS = 72.0
MIN_WINDOW_COMMITS = 3
# Rank 1 is put forward only when its evidence clearly outweighs the next commit's.
RUNNER_UP_SHARE = 0.7
MIN_EXPLANATION = 2.0
KIND_ORDER = {"incident": 0, "new": 1, "burst": 2, "unclassified": 3, "background": 4}
DECISIVE_FOR_INFRASTRUCTURE = {"function", "line", "config-match", "dependency-match"}


@dataclass
class EvidenceRequest:
    """What to look at: the repository, log files or folders, the symptom line, the window."""

    repo: Path
    logs: list[str] = field(default_factory=list)
    symptom: str | None = None
    window_hours: float = DEFAULT_WINDOW_HOURS
    now: float | None = None
    """The time to read a dateless symptom against when there are no logs (default: now)."""


@dataclass
class Window:
    since: float
    until: float
    commits: int
    widened: bool = False


@dataclass
class Evidence:
    """Everything the pass found, for report.py to print or write as JSON."""

    repository: Path
    onset: Onset
    signatures: list[Signature]
    window: Window
    suspects: list[Suspect]
    confident: bool
    verdict: str
    symptom: SymptomHints
    symptom_times: list[float]
    logs: LogScan
    untimed_errors: int
    notes: list[str] = field(default_factory=list)
    external_cause: dict | None = None
    """{"kind", "target", "description", "signature"} when the errors point outside the code."""


def collect_evidence(request: EvidenceRequest) -> Evidence:
    """Run the whole pass. Raises EvidenceError for a missing git or a folder that is no repository."""
    repository = open_repository(request.repo)
    has_commits = repository.has_commits()
    book = SignatureBook(RepositoryFiles.at_revision(repository, "HEAD" if has_commits else None))
    scan = scan_logs(request.logs, book.add)
    hints = read_symptom(request.symptom)
    span_start, span_end = scan.span
    now = request.now if request.now is not None else time.time()
    symptom_times = [resolve_symptom_time(hint, span_start, span_end, now) for hint in hints.times]
    spans = {
        summary.source: (summary.first_time, summary.last_time) for summary in scan.files if summary.first_time is not None
    }
    onset = find_onset(book, spans, symptom_times[0] if symptom_times else None)
    until = onset.start if onset.start is not None else (span_end or _head_time(repository, has_commits) or now)
    window, commits = _choose_window(repository, until, request.window_hours)
    history = changes.history_range(repository, window.since, window.until)
    signatures = sorted(book.signatures.values(), key=lambda s: (KIND_ORDER.get(s.kind, 9), -s.weight, -s.count))
    clues = gather_clues(signatures)
    requested_start = window.until - request.window_hours * 3600.0
    suspects = rank_suspects(
        repository, history, commits, clues, onset.start, scan.deploy_mentions, hints.endpoints, requested_start
    )
    confident, verdict = judge(onset, suspects, clues)
    evidence = Evidence(
        repository.top, onset, signatures, window, suspects, confident, verdict,
        hints, symptom_times, scan, book.untimed_errors,
    )  # fmt: skip
    evidence.notes = _notes(evidence, hints) + _source_map_notes(book.files)
    evidence.external_cause = _external_cause(clues)
    return evidence


def _external_cause(clues: ErrorClues) -> dict | None:
    if not clues.infrastructure or clues.external is None:
        return None
    kind, target = clues.external
    return {"kind": kind, "target": target, "description": describe(kind, target), "signature": clues.infrastructure_label}


def _source_map_notes(files: RepositoryFiles) -> list[str]:
    return [
        f"{frame_path} is compiled JavaScript: it was placed in {source} by function name only; a source map "
        f"({frame_path.rsplit('/', 1)[-1]}.map) would be needed for its lines, and none was given"
        for frame_path, source in sorted(files.compiled.items())[:5]
    ]


def _head_time(repository: GitRepository, has_commits: bool) -> float | None:
    if not has_commits:
        return None
    return float(repository.text(["log", "-1", "--format=%ct", "HEAD"]).strip())


def _choose_window(repository: GitRepository, until: float, hours: float) -> tuple[Window, list[CommitChange]]:
    """Commits committed in the hours before `until`; widened back to the third newest when thinner."""
    since = until - hours * 3600.0
    commits = changes.list_commits(repository, since, until)
    widened = False
    if len(commits) < MIN_WINDOW_COMMITS:
        newest = changes.newest_commit_times(repository, until, MIN_WINDOW_COMMITS)
        if newest and min(newest) < since:
            since, widened = min(newest), True
            commits = changes.list_commits(repository, since, until)
    return Window(since, until, len(commits), widened), commits


def judge(onset: Onset, suspects: list[Suspect], clues: ErrorClues) -> tuple[bool, str]:
    """Whether rank 1 is put forward as the cause, and the verdict in one sentence."""
    if onset.source == "none":
        return False, (
            "No recent change explains this: the logs show no onset (no new or surging error) "
            "and the symptom names no time."
        )
    if not suspects:
        return False, "No recent change explains this: no commit was made in the window before the onset."
    top = suspects[0]
    verdict = _outside_the_code(top, clues) or _configuration_at_onset(top, clues)
    if verdict:
        return False, verdict
    if not top.explains or top.explanation < MIN_EXPLANATION:
        return False, (
            "No recent change explains this: no commit in the window changed the code in the errors' stack traces, "
            "the files holding their texts, or configuration sharing their words."
        )
    if len(suspects) > 1 and suspects[1].explanation >= RUNNER_UP_SHARE * top.explanation:
        return False, (
            f"Two changes explain this about equally: {top.change.commit[:7]} and {suspects[1].change.commit[:7]}; "
            "read both before blaming either."
        )
    first_reason = next(reason.text for reason in top.reasons if reason.explains)
    return True, f'{top.change.commit[:7]} "{top.change.subject}" is the likely cause: it {first_reason}.'


def _outside_the_code(top: Suspect, clues: ErrorClues) -> str | None:
    """The verdict when the errors point outside the code and the top commit did not change the code
    involved. A commit from before the requested window (listed only because it held under three)
    does not count as changing it."""
    decisive = top.evidence_factor >= 1.0 and any(reason.kind in DECISIVE_FOR_INFRASTRUCTURE for reason in top.reasons)
    if not clues.infrastructure or decisive:
        return None
    cause = describe(*clues.external) if clues.external else "infrastructure"
    return (
        f"No recent change explains this: the errors point outside the code, at {cause} "
        f"({clues.infrastructure_label}), and no commit in the window changed the functions in their stack "
        "traces or the settings they use."
    )


def _configuration_at_onset(top: Suspect, clues: ErrorClues) -> str | None:
    """The verdict when no code change explains the errors but a configuration-only change lines up."""
    aligned = next((reason for reason in top.reasons if reason.kind == "config-onset"), None)
    if aligned is None or clues.infrastructure or top.explanation >= MIN_EXPLANATION:
        return None
    return f'No change to the code explains this; {top.change.commit[:7]} "{top.change.subject}" {aligned.text}: check it first.'


def _notes(evidence: Evidence, hints: SymptomHints) -> list[str]:
    notes = list(evidence.onset.notes) + list(hints.notes)
    if evidence.window.widened:
        notes.append(f"the window held fewer than {MIN_WINDOW_COMMITS} commits and was widened back to the third newest")
    if any(time_hint.offset_minutes is None for time_hint in hints.times):
        notes.append("the symptom's time names no zone; read as UTC")
    zoneless = [
        summary.source for summary in evidence.logs.files if summary.usual_format_has_no_zone or summary.zoneless_lines
    ]
    if zoneless:
        notes.append(f"times without a zone were read as UTC in: {', '.join(zoneless[:5])}")
    if evidence.untimed_errors:
        notes.append(f"{evidence.untimed_errors} errors had no time and are counted but not placed in time")
    if not evidence.logs.files:
        notes.append("no log file was read; pass --logs with files or folders")
    return notes
