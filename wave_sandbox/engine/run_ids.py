"""Run ids: sortable by start time, short enough to read, unique enough for one machine."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

RUN_ID_PATTERN = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{4}$")


def new_run_id(now: datetime | None = None) -> str:
    """`20261127-143012-ab12`: local start time plus four random hex digits."""
    moment = now or datetime.now()
    return f"{moment:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def is_run_id(text: str) -> bool:
    return bool(RUN_ID_PATTERN.match(text))
