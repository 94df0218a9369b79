"""Download, on the host, the wheels of the `anthropic` SDK the agent image installs.

`docker build` here has no network (and where it has, TLS may be intercepted by a proxy only the host
trusts), so pip runs on the host for the image's Python version and architecture and the image
installs with `--no-index`. Wheels are cached per Python version, architecture and SDK version.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

from wave_sandbox.errors import ImageBuildError
from wave_sandbox.sandbox.base_platform import BasePlatform

__all__ = [
    "ensure_anthropic_wheels",
    "installed_anthropic_version",
    "manylinux_platform_tags",
    "wheel_cache_dir",
]

COMPLETE_MARKER = ".complete"
# manylinux tags older than these do not exist for the architecture.
OLDEST_GLIBC_MINOR = {"x86_64": 5, "aarch64": 17}
LEGACY_MANYLINUX_ALIASES = {
    "x86_64": {5: "manylinux1", 12: "manylinux2010", 17: "manylinux2014"},
    "aarch64": {17: "manylinux2014"},
}

Notify = Callable[[str], None]


def installed_anthropic_version() -> str:
    """The host's anthropic version: the image runs the SDK the host was tested with."""
    try:
        return importlib.metadata.version("anthropic")
    except importlib.metadata.PackageNotFoundError as exc:
        raise ImageBuildError(
            "the anthropic package is not installed beside wave-sandbox; reinstall wave-sandbox"
        ) from exc


def wheel_cache_dir(python_version: str, machine: str, anthropic_version: str) -> Path:
    """`~/.cache/wave-sandbox/wheels/<pyver>-<arch>/<anthropic version>/` (XDG_CACHE_HOME honoured)."""
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache_home / "wave-sandbox" / "wheels" / f"{python_version}-{machine}" / anthropic_version


def manylinux_platform_tags(machine: str, glibc_version: str) -> list[str]:
    """Every manylinux tag an image with this glibc can load, newest first, legacy aliases included."""
    if machine not in OLDEST_GLIBC_MINOR:
        raise ImageBuildError(f"no wheels are published for the architecture {machine}; use x86_64 or aarch64")
    newest_minor = int(glibc_version.split(".")[1])
    tags = []
    for minor in range(newest_minor, OLDEST_GLIBC_MINOR[machine] - 1, -1):
        tags.append(f"manylinux_2_{minor}_{machine}")
        legacy = LEGACY_MANYLINUX_ALIASES[machine].get(minor)
        if legacy:
            tags.append(f"{legacy}_{machine}")
    return tags


def ensure_anthropic_wheels(platform: BasePlatform, anthropic_version: str, notify: Notify) -> Path:
    """Return a folder holding anthropic and all its dependencies as wheels for `platform`.

    Raises:
        ImageBuildError: pip could not download them (no PyPI, or no wheel for the platform).
    """
    target = wheel_cache_dir(platform.python_version, platform.machine, anthropic_version)
    if (target / COMPLETE_MARKER).is_file():
        return target
    notify(
        f"Downloading anthropic {anthropic_version} wheels for Python {platform.python_version} "
        f"on {platform.machine} (once)"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    # Download beside the target and rename, so an interrupted download is never mistaken for a cache.
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=target.parent))
    try:
        _pip_download(platform, anthropic_version, staging)
        (staging / COMPLETE_MARKER).write_text("")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _pip_download(platform: BasePlatform, anthropic_version: str, destination: Path) -> None:
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:"]
    command += ["--python-version", platform.python_version, "--implementation", "cp"]
    for tag in manylinux_platform_tags(platform.machine, platform.glibc_version):
        command += ["--platform", tag]
    command += ["--dest", str(destination), f"anthropic=={anthropic_version}"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last_lines = " | ".join((result.stdout + result.stderr).strip().splitlines()[-4:])
        raise ImageBuildError(
            f"downloading anthropic {anthropic_version} wheels for Python {platform.python_version} "
            f"on {platform.machine} failed: {last_lines}. Check that PyPI is reachable from this machine."
        )
