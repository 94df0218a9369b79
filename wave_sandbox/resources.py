"""Locate files that ship with wave-sandbox (built-in pipelines, personas, the agent image).

In a source checkout (editable install) they live at the top of the project; in an installed wheel
they are packaged under `wave_sandbox/_builtin/`.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def builtin_dir(name: str) -> Path:
    """Return the folder of shipped files called `name` ("pipelines" or "images")."""
    installed = PACKAGE_DIR / "_builtin" / name
    if installed.is_dir():
        return installed
    return PACKAGE_DIR.parent / name


def builtin_pipelines_dir() -> Path:
    return builtin_dir("pipelines")


def agent_image_dir() -> Path:
    return builtin_dir("images") / "agent"


def builtin_personas_dir() -> Path:
    return PACKAGE_DIR / "personas"
