"""A suspected commit and its reasons: the value suspects.py ranks and the evidence modules credit.

Kept apart from suspects.py so that code_evidence.py and settings_evidence.py, which suspects.py
calls, can name it without importing back the module that imports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wave_sandbox.evidence.changes import CommitChange

__all__ = ["Reason", "Suspect"]


@dataclass
class Reason:
    """One reason a commit is suspected: its weight, its words, whether it explains the errors."""

    weight: float
    text: str
    explains: bool = False
    kind: str = "hint"


@dataclass
class Suspect:
    """A commit of the window and the reasons it is suspected; its score is their sum."""

    change: CommitChange
    reasons: list[Reason] = field(default_factory=list)
    paths_with_changed_frames: set[str] = field(default_factory=set)
    evidence_factor: float = 1.0
    """Scales the evidence of a commit from before the requested window (see OUTSIDE_WINDOW_FACTOR)."""

    @property
    def score(self) -> float:
        return round(sum(reason.weight for reason in self.reasons), 2)

    @property
    def explains(self) -> bool:
        return any(reason.explains for reason in self.reasons)

    @property
    def explanation(self) -> float:
        """The weight of the reasons that explain the errors (not timing or size)."""
        return sum(reason.weight for reason in self.reasons if reason.explains)

    def add(self, weight: float, text: str, explains: bool = False, kind: str = "hint") -> None:
        factor = self.evidence_factor if explains else 1.0
        self.reasons.append(Reason(round(weight * factor, 2), text, explains, kind))
