"""Whether the host holds the model's API key; the key itself is read only by the gateway's upstream."""

from __future__ import annotations

import os
from collections.abc import Mapping

API_KEY_VARIABLE = "ANTHROPIC_API_KEY"
OPENAI_KEY_VARIABLE = "OPENAI_API_KEY"


def api_key_is_set(environ: Mapping[str, str] = os.environ) -> bool:
    """True when ``ANTHROPIC_API_KEY`` is set and not empty (its value is not returned)."""
    return bool(environ.get(API_KEY_VARIABLE))


def openai_key_is_set(environ: Mapping[str, str] = os.environ) -> bool:
    """True when ``OPENAI_API_KEY`` is set and not empty (for ``--model openai:ID``)."""
    return bool(environ.get(OPENAI_KEY_VARIABLE))
