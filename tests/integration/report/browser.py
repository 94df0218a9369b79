"""Headless Chromium (Debian's `chromium`) for the report tests: the rendered DOM and a screenshot."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BASE_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
              "--disable-extensions", "--disable-background-networking"]

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")


def dump_dom(page: Path) -> str:
    done = subprocess.run([CHROMIUM, *BASE_FLAGS, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def screenshot(page: Path, target: Path, width: int = 1200, height: int = 1400) -> Path:
    done = subprocess.run([CHROMIUM, *BASE_FLAGS, f"--window-size={width},{height}", f"--screenshot={target}",
                           page.as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and target.exists(), done.stderr[-2000:]
    return target
