"""The one-line reason a run records when something outside its steps ends it."""

from __future__ import annotations

from wave_sandbox.errors import WaveSandboxError

MAX_REASON_CHARS = 500


def one_line_reason(error: BaseException) -> str:
    """The error's own first line for what a user can cause; its type too for a bug of ours."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    if not isinstance(error, WaveSandboxError):
        text = f"internal error: {type(error).__name__}: {text}"
    return text[:MAX_REASON_CHARS]
