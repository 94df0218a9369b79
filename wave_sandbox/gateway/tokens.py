"""Step tokens: the only credential a container ever holds.

A token names its step and nothing else: the gateway takes the step from the token, never from the
request, so a container cannot act as another step. Lookups go through a SHA-256 digest of the
presented value, so comparing against stored tokens leaks nothing useful through timing. Every token
ever issued is remembered (also after revocation) so transcripts can be scrubbed of it.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Mapping

__all__ = ["StepTokens", "TOKEN_PREFIX", "presented_token"]

TOKEN_PREFIX = "wst-"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class StepTokens:
    """Issues, checks and revokes per-step tokens; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._step_by_digest: dict[bytes, str] = {}
        self._digest_by_step: dict[str, bytes] = {}
        self._ever_issued: list[str] = []

    def issue(self, step_id: str) -> str:
        """A fresh token for ``step_id``; any earlier token of that step stops working."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._lock:
            self._forget(step_id)
            self._step_by_digest[_digest(token)] = step_id
            self._digest_by_step[step_id] = _digest(token)
            self._ever_issued.append(token)
        return token

    def step_for(self, presented: str | None) -> str | None:
        """The step a presented token belongs to, or None for a missing, unknown or revoked one."""
        if not presented:
            return None
        with self._lock:
            return self._step_by_digest.get(_digest(presented))

    def revoke(self, step_id: str) -> None:
        """Make the step's token useless from now on (idempotent)."""
        with self._lock:
            self._forget(step_id)

    def _forget(self, step_id: str) -> None:
        digest = self._digest_by_step.pop(step_id, None)
        if digest is not None:
            self._step_by_digest.pop(digest, None)

    def ever_issued(self) -> tuple[str, ...]:
        """Every token handed out, live or revoked: values a transcript must never contain."""
        with self._lock:
            return tuple(self._ever_issued)


def presented_token(headers: Mapping[str, str]) -> str | None:
    """The step token a client sent, as the SDK sends it (x-api-key, or a bearer token)."""
    api_key = headers.get("x-api-key")
    if api_key:
        return api_key.strip()
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
