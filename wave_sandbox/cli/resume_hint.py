"""The last line of every failed or interrupted run: the exact `wave-sandbox resume` command to type."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from wave_sandbox.text_safety import printable_inline


def resume_command_line(run_id: str, repo: Path) -> str:
    """`wave-sandbox resume RUN`, with `--repo` when the current folder is not inside that repository."""
    command = f"wave-sandbox resume {run_id}"
    if not _is_inside(Path.cwd(), Path(repo)):
        command += f" --repo {shlex.quote(str(repo))}"
    return command


def print_resume_hint(run_id: str | None, repo: object | None) -> None:
    """On stderr, after the closing lines (the seed's lines on stdout stay as they are)."""
    if not run_id or repo is None:
        return
    print(printable_inline(f"Resume with: {resume_command_line(run_id, Path(str(repo)))}"), file=sys.stderr, flush=True)


def _is_inside(folder: Path, repo: Path) -> bool:
    try:
        return Path(os.path.realpath(folder)).is_relative_to(os.path.realpath(repo))
    except OSError:
        return False
