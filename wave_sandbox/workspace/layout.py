"""Where wave-sandbox keeps its own files inside a repository (`<repo>/.wave/runs/`).

In `workspace` because the repository's layout is the workspace's business: the engine writes run
records there and the mount planner hides that folder from every agent, without importing each other.
"""

from __future__ import annotations

from pathlib import Path

RUNS_FOLDER = Path(".wave") / "runs"


def runs_root(repo: Path) -> Path:
    """The folder holding every run record of `repo`."""
    return repo / RUNS_FOLDER


def ensure_self_ignoring_folder(folder: Path) -> None:
    """Create `folder` holding a `.gitignore` of `*`, so nothing in it ever shows in `git status`."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / ".gitignore"
    if not marker.exists():
        marker.write_text("*\n")
