"""How many tokens each model reads at most: the context window the agent keeps its prompt within.

Published context windows (https://platform.claude.com/docs/en/about-claude/models/overview, as of
2026-12-06). A persona's `context_window` setting overrides the table (a smaller window to keep steps
cheap, or a model the table does not know); an unknown model gets the common 200k.
"""

from __future__ import annotations

import fnmatch

__all__ = ["context_window_for", "DEFAULT_CONTEXT_WINDOW"]

DEFAULT_CONTEXT_WINDOW = 200_000
CONTEXT_WINDOWS: tuple[tuple[str, int], ...] = (
    ("claude-*", 200_000),
    ("scripted", 200_000),
)


def context_window_for(model: str, persona_window: int | None = None) -> int:
    """The persona's window when it sets one, else the model's from the table."""
    if persona_window is not None:
        return persona_window
    return next((size for pattern, size in CONTEXT_WINDOWS if fnmatch.fnmatchcase(model, pattern)),
                DEFAULT_CONTEXT_WINDOW)  # fmt: skip
