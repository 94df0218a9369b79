"""When did it start? The signature that is new, or whose rate jumped over its own baseline.

Each signature's errors are a Poisson stream observed over the time its log files cover. For every
error as a candidate change point, the log-likelihood ratio of "one rate before, a higher rate
after" against "one rate throughout" measures how clearly the rate stepped up there; the best split
is the signature's change point. A steady signature scores low whatever its volume (background); a
new or surging one scores high. The strongest change is the onset (the strongest within an hour of
the symptom's time, when the symptom names one and a change lies there); signatures changing with
it form the incident, ones changing at other times are other bursts. Without any change in the
logs the symptom's time stands in, and failing that there is no onset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from wave_sandbox.evidence.signatures import EvidenceLine, Signature, SignatureBook

__all__ = ["Onset", "find_onset"]

MIN_EVENTS_AFTER = 3
MIN_CHANGE_SCORE = 8.0
MIN_RATE_RATIO = 3.0
MIN_BASELINE_S = 60.0
MIN_BASELINE_SHARE = 0.05
MAX_SPLITS_TRIED = 5000
CLUSTER_MIN_S = 15 * 60
CLUSTER_SHARE = 0.05
SYMPTOM_NEAR_S = 3600
ONSET_ESTABLISHED_AFTER = 5
EVIDENCE_SIGNATURES = 3
NEW_SIGNATURE_WEIGHT = 0.3
SYMPTOM_ONLY_WEIGHT = 0.6
NO_ONSET_WEIGHT = 0.5
SYMPTOM_SLACK_S = 300


@dataclass
class Onset:
    """The window the incident started in, where that was read from, and the lines that show it."""

    start: float | None
    end: float | None
    source: str
    """"logs" (a change in the error rates), "symptom" (the symptom's time) or "none"."""
    evidence: list[EvidenceLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def find_onset(
    book: SignatureBook, spans: dict[str, tuple[float, float]], symptom_time: float | None
) -> Onset:
    """Classify every signature (kind, weight) and return the onset."""
    signatures = list(book.signatures.values())
    for signature in signatures:
        _measure_change(signature, _exposure(signature, spans))
    changed = [signature for signature in signatures if _changed(signature)]
    if changed:
        return _onset_from_changes(book, signatures, changed, symptom_time, spans)
    if symptom_time is not None:
        return _onset_from_symptom(book, signatures, symptom_time)
    for signature in signatures:
        signature.kind, signature.weight = "unclassified", NO_ONSET_WEIGHT * _count_share(signature, signatures)
    return Onset(None, None, "none", notes=["no error signature is new or jumped in rate, and the symptom names no time"])


def _exposure(signature: Signature, spans: dict[str, tuple[float, float]]) -> tuple[float, float]:
    """The time the signature's files cover: errors could have been seen there all along."""
    covered = [spans[source] for source in signature.sources if source in spans]
    starts = [start for start, _ in covered] + ([min(signature.times)] if signature.times else [])
    ends = [end for _, end in covered] + ([max(signature.times)] if signature.times else [])
    return (min(starts), max(ends)) if starts else (0.0, 0.0)


def _poisson_term(count: float, duration: float) -> float:
    return count * math.log(count / duration) if count > 0 else 0.0


def _measure_change(signature: Signature, exposure: tuple[float, float]) -> None:
    """Best upward change point of the signature's rate (Poisson likelihood ratio, one split)."""
    times = sorted(signature.times)
    count = len(times)
    if count < MIN_EVENTS_AFTER:
        return
    start, end = exposure
    total = max(end - start, 1.0)
    min_baseline = max(MIN_BASELINE_S, MIN_BASELINE_SHARE * total)
    whole = _poisson_term(count, total)
    stride = max(1, count // MAX_SPLITS_TRIED)
    for index in range(0, count, stride):
        before, after = times[index] - start, max(end - times[index], 1.0)
        if before < min_baseline:
            continue
        count_after = count - index
        if count_after / after <= index / before:
            continue
        score = _poisson_term(index, before) + _poisson_term(count_after, after) - whole
        if score > signature.change_score:
            signature.change_score = score
            signature.change_time = times[index]
            signature.rate_before_per_hour = 3600.0 * index / before
            signature.rate_after_per_hour = 3600.0 * count_after / after
            signature.events_after_change = count_after
            # A pseudo-count of one error before keeps "nothing before" from being an infinite jump.
            signature.rate_ratio = (count_after / after) / ((index + 1) / before)


def _changed(signature: Signature) -> bool:
    if signature.change_time is None or signature.change_score < MIN_CHANGE_SCORE:
        return False
    return signature.events_after_change >= MIN_EVENTS_AFTER and signature.rate_ratio >= MIN_RATE_RATIO


def _onset_from_changes(
    book: SignatureBook,
    signatures: list[Signature],
    changed: list[Signature],
    symptom_time: float | None,
    spans: dict[str, tuple[float, float]],
) -> Onset:
    # The symptom's time picks among the changes near it; the logs still say exactly when.
    near = [s for s in changed if symptom_time is not None and abs(s.change_time - symptom_time) <= SYMPTOM_NEAR_S]
    primary = max(near or changed, key=lambda signature: signature.change_score)
    cluster_window = max(CLUSTER_MIN_S, CLUSTER_SHARE * _overall_span(spans))
    incident = [s for s in changed if abs(s.change_time - primary.change_time) <= cluster_window]
    start = min(signature.change_time for signature in incident)
    strongest = max(signature.change_score for signature in incident)
    for signature in signatures:
        _classify(signature, incident, changed, start, strongest)
    onset = Onset(start, _established_at(incident, start), "logs")
    ranked = sorted(incident, key=lambda signature: -signature.change_score)[:EVIDENCE_SIGNATURES]
    onset.evidence = [line for signature in ranked for line in book.sample_at(signature, signature.change_time)]
    if symptom_time is not None and abs(start - symptom_time) > SYMPTOM_NEAR_S:
        onset.notes.append("the symptom's time is more than an hour from the onset in the logs; the logs win")
    return onset


def _classify(signature: Signature, incident: list[Signature], changed: list[Signature], start: float, strongest: float):
    if signature in incident:
        signature.kind, signature.weight = "incident", signature.change_score / strongest
    elif signature in changed:
        signature.kind, signature.weight = "burst", 0.0
    elif signature.times and min(signature.times) >= start:
        signature.kind, signature.weight = "new", NEW_SIGNATURE_WEIGHT
    else:
        signature.kind, signature.weight = "background", 0.0


def _established_at(incident: list[Signature], start: float) -> float:
    """When the incident was unmistakable: its fifth error (or its last, with fewer)."""
    after = sorted(moment for signature in incident for moment in signature.times if moment >= start)
    return after[min(ONSET_ESTABLISHED_AFTER, len(after)) - 1] if after else start


def _overall_span(spans: dict[str, tuple[float, float]]) -> float:
    if not spans:
        return 0.0
    return max(end for _, end in spans.values()) - min(start for start, _ in spans.values())


def _onset_from_symptom(book: SignatureBook, signatures: list[Signature], symptom_time: float) -> Onset:
    """No change in the logs: errors first seen after the symptom's time are the incident."""
    incident = [s for s in signatures if s.times and min(s.times) >= symptom_time - SYMPTOM_SLACK_S]
    for signature in signatures:
        in_incident = signature in incident
        signature.kind = "new" if in_incident else "background"
        signature.weight = SYMPTOM_ONLY_WEIGHT * _count_share(signature, incident) if in_incident else 0.0
    note = "no error signature is new or jumped in rate; the symptom's time is used"
    onset = Onset(symptom_time, symptom_time, "symptom", notes=[note])
    shown = incident[:EVIDENCE_SIGNATURES]
    onset.evidence = [line for signature in shown for line in book.sample_at(signature, symptom_time)]
    return onset


def _count_share(signature: Signature, group: list[Signature]) -> float:
    largest = max((member.count for member in group), default=0)
    return signature.count / largest if largest else 0.0
