"""Rank the window's commits by how well each explains the incident's errors, with reasons in words.

Evidence that a change explains the errors, strongest first (code_evidence.py, settings_evidence.py):
it changed the very function or line of a stack frame (`git log -L`), added or removed the error's
text (pickaxe), bumped a library whose code is in the traces, changed configuration whose words or
new value are the errors', touched a frame's file or a file holding the error text. Weaker hints only
order the rest: a plain config or dependency change, being deployed or committed shortly before the
onset, size. Evidence counts in proportion to the weight of the signatures it comes from, so a
recent commit that explains nothing stays below an older one that changed the failing lines.
"""

from __future__ import annotations

import math

from wave_sandbox.evidence.changes import CommitChange, HistoryRange
from wave_sandbox.evidence.clues import ErrorClues
from wave_sandbox.evidence.code_evidence import credit_code_evidence
from wave_sandbox.evidence.file_kinds import file_kind
from wave_sandbox.evidence.gitrepo import GitRepository
from wave_sandbox.evidence.logs import DeployMention
from wave_sandbox.evidence.settings_evidence import credit_settings_evidence
from wave_sandbox.evidence.suspect import Reason, Suspect

__all__ = ["Reason", "Suspect", "rank_suspects"]

# Evidence for commits older than the requested window (there only because it held under three).
OUTSIDE_WINDOW_FACTOR = 0.35
DEPLOYED_BEFORE_ONSET = 1.0
DEPLOYED_AFTER_ONSET = -4.0
CLOSENESS_MAX, CLOSENESS_HALF_LIFE_S = 1.5, 12 * 3600
SIZE_MAX = 0.5
DOCS_OR_TESTS_ONLY = -2.0
MIN_COMMIT_TOKEN = 7
# A configuration-only change this close before the onset lines up with it.
CONFIG_ONSET_S = 6 * 3600
CONFIG_ONSET_MARGIN = 0.25
CONFIG_ONLY_KINDS = {"config", "dependency"}
# Evidence that a commit changed the failing code itself (or its settings): config alignment does not outrank it.
DIRECT_EVIDENCE = {"function", "line", "error-text", "config-match", "dependency-match"}


def rank_suspects(
    repository: GitRepository,
    history: HistoryRange,
    commits: list[CommitChange],
    clues: ErrorClues,
    onset_time: float | None,
    deploys: list[DeployMention],
    endpoints: list[str],
    window_start: float | None = None,
) -> list[Suspect]:
    """The commits as suspects, most likely first (ties: the newer first). Commits older than
    `window_start` (the requested window, before any widening) count their evidence at a third."""
    suspects = {commit.commit: Suspect(commit) for commit in commits}
    for suspect in suspects.values():
        if window_start is not None and suspect.change.time < window_start:
            suspect.evidence_factor = OUTSIDE_WINDOW_FACTOR
            suspect.add(0.0, "older than the window; listed because the window held fewer than three commits")
    if suspects:
        credit_code_evidence(repository, history, clues, endpoints, suspects)
        for suspect in suspects.values():
            credit_settings_evidence(repository, clues, suspect)
            _credit_timing(suspect, onset_time, deploys)
            _credit_size_and_kind(suspect)
        _credit_config_at_onset(list(suspects.values()), onset_time, deploys)
    return sorted(suspects.values(), key=lambda suspect: (-suspect.score, -suspect.change.time))


def _credit_timing(suspect: Suspect, onset_time: float | None, deploys: list[DeployMention]) -> None:
    if onset_time is None:
        return
    commit_id = suspect.change.commit
    mentions = [
        mention for mention in deploys
        if len(mention.token) >= MIN_COMMIT_TOKEN and commit_id.startswith(mention.token) and mention.time is not None
    ]  # fmt: skip
    before = [mention for mention in mentions if mention.time <= onset_time]
    reference = suspect.change.time
    if before:
        latest = max(before, key=lambda mention: mention.time)
        reference = max(reference, latest.time)
        where = f"{latest.source}:{latest.line_no}"
        suspect.add(DEPLOYED_BEFORE_ONSET, f"deployed {_duration(onset_time - latest.time)} before the onset ({where})")
    elif mentions:
        first = min(mentions, key=lambda mention: mention.time)
        where = f"{first.source}:{first.line_no}"
        text = f"first deployed {_duration(first.time - onset_time)} after the onset ({where}), so it cannot have started it"
        suspect.add(DEPLOYED_AFTER_ONSET, text)
    gap = max(onset_time - reference, 0.0)
    closeness = CLOSENESS_MAX * math.exp(-gap * math.log(2) / CLOSENESS_HALF_LIFE_S)
    suspect.add(closeness, f"committed {_duration(onset_time - suspect.change.time)} before the onset")


def _credit_config_at_onset(suspects: list[Suspect], onset_time: float | None, deploys: list[DeployMention]) -> None:
    """The newest configuration-only commit (settings, environment, flags, dependency pins) made or
    deployed within CONFIG_ONSET_S before the onset ranks above every commit that did not change the
    failing code: it lines up with the onset, and they explain no more than touching nearby files."""
    if onset_time is None:
        return
    aligned = [
        (moment, suspect) for suspect in suspects
        if _config_only(suspect) and (moment := _effective_time(suspect, deploys, onset_time)) is not None
        and 0 <= onset_time - moment <= CONFIG_ONSET_S
    ]  # fmt: skip
    if not aligned or any(reason.kind == "config-match" for _, s in aligned for reason in s.reasons):
        return
    moment, chosen = max(aligned, key=lambda pair: pair[0])
    indirect = [s.score for s in suspects if s is not chosen and not any(r.kind in DIRECT_EVIDENCE for r in s.reasons)]
    weight = max([0.0] + [score - chosen.score + CONFIG_ONSET_MARGIN for score in indirect])
    text = (
        f"is a configuration-only change made {_duration(onset_time - moment)} before the onset, and no code "
        "change in the window touched the failing functions"
    )
    chosen.add(max(weight, CONFIG_ONSET_MARGIN), text, False, "config-onset")


def _config_only(suspect: Suspect) -> bool:
    files = suspect.change.files
    return bool(files) and {file_kind(changed.path) for changed in files} <= CONFIG_ONLY_KINDS


def _effective_time(suspect: Suspect, deploys: list[DeployMention], onset_time: float) -> float | None:
    """When the change went live: its latest deploy before the onset, else its commit time."""
    commit_id = suspect.change.commit
    deployed = [
        mention.time for mention in deploys
        if mention.time is not None and mention.time <= onset_time and len(mention.token) >= MIN_COMMIT_TOKEN
        and commit_id.startswith(mention.token)
    ]  # fmt: skip
    return max(deployed) if deployed else suspect.change.time


def _credit_size_and_kind(suspect: Suspect) -> None:
    files = suspect.change.files
    kinds = {file_kind(changed.path) for changed in files}
    if files and kinds <= {"docs", "test"}:
        suspect.add(DOCS_OR_TESTS_ONLY, f"only touches {' and '.join(sorted(kinds))}")
        return
    lines = suspect.change.lines_changed
    suspect.add(SIZE_MAX * min(1.0, math.log10(1 + lines) / 3), f"changes {lines} lines in {len(files)} files")


def _duration(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
