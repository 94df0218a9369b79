"""The one redactor: every known secret value replaced by one marker, wherever a run writes text.

Used by the gateway on every transcript line (the step tokens and the real API key) and by the engine on
everything a run wrote once it ends (the API key and every host variable named like a secret). Both
replace a secret and its JSON-escaped form, since most of what a run writes is JSON.

Git's own files are the exception (`workspace.git_credentials`): credentials there are found by shape,
not by value, and replaced by `URL_SAFE_REDACTED`, which keeps a URL parseable so git still reads the file.
"""

from __future__ import annotations

import json
from typing import Iterable

REDACTED = "[redacted]"
URL_SAFE_REDACTED = "***"
"""The marker inside a URL or a git config value, where brackets would break parsing."""
MIN_SECRET_CHARS = 8
"""Below this length a "secret" (a test key such as "x") would wipe ordinary text out of every file."""


def secret_forms(secret: str) -> set[str]:
    """How `secret` may appear in what a run writes: as it is and JSON-escaped."""
    return {secret, json.dumps(secret, ensure_ascii=False)[1:-1]}


def redactable(secrets: Iterable[str]) -> list[str]:
    """The forms of the secrets long enough to redact safely, longest first (no secret is half-replaced)."""
    forms = {form for secret in secrets if len(secret) >= MIN_SECRET_CHARS for form in secret_forms(secret)}
    return sorted(forms, key=len, reverse=True)


def redact_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each secret (and its JSON-escaped form) replaced by ``[redacted]``."""
    for form in redactable(secrets):
        text = text.replace(form, REDACTED)
    return text


def redact_secret_bytes(content: bytes, secrets: Iterable[str]) -> bytes:
    """The same as `redact_secrets`, on bytes (a file of any encoding; the secrets are matched as UTF-8)."""
    marker = REDACTED.encode()
    for form in redactable(secrets):
        content = content.replace(form.encode(), marker)
    return content
