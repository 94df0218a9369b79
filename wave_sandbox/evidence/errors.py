"""The evidence pass's one error: something the user can fix (no git, not a repository, bad option).

The package runs inside the agent image, where wave_sandbox.errors is not available; the host command
(wave_sandbox/cli/evidence_cmd.py) translates it into a ConfigurationError.
"""

from __future__ import annotations

__all__ = ["EvidenceError"]


class EvidenceError(Exception):
    """One line saying what happened and what to do."""
