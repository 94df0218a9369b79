"""What the base image runs: its Python version, CPU architecture and glibc, which choose the wheels.

Found by running the base once in a throwaway container. Debian's slim image has no python3 yet (the
Dockerfile installs the release's own), so its version then comes from the Debian release's name.
"""

from __future__ import annotations

from dataclasses import dataclass

import docker
import docker.errors
import requests

from wave_sandbox.errors import ImageBuildError

__all__ = ["BasePlatform", "detect_base_platform", "parse_platform_probe"]

# The python3 each Debian release ships, for bases that do not have it installed yet.
DEBIAN_RELEASE_PYTHON = {"bullseye": "3.9", "bookworm": "3.11", "trixie": "3.13"}
PROBE_SCRIPT = r"""
uname -m
getconf GNU_LIBC_VERSION
if command -v python3 >/dev/null 2>&1; then
  python3 -c 'import sys; print("python %d.%d" % sys.version_info[:2])'
else
  . /etc/os-release; echo "release $VERSION_CODENAME"
fi
"""
PROBE_TIMEOUT_S = 60


@dataclass(frozen=True)
class BasePlatform:
    """The facts about a base image that pick which wheels can be installed in it."""

    python_version: str
    """"3.11": major.minor of the python3 the image runs."""
    machine: str
    """"x86_64" or "aarch64", as `uname -m` says inside the image."""
    glibc_version: str
    """"2.36": the newest manylinux tag the image can load."""


def detect_base_platform(client: docker.DockerClient, image: str) -> BasePlatform:
    """Run the probe in a throwaway container of `image` (created, started, waited on and removed here).

    Raises:
        ImageBuildError: the probe could not run or its answer is not understood.
    """
    container = None
    try:
        container = client.containers.create(
            image, ["/bin/sh", "-c", PROBE_SCRIPT], network_disabled=True, labels={"wave-sandbox.probe": "base"}
        )
        container.start()
        status = container.wait(timeout=PROBE_TIMEOUT_S)
        output = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise ImageBuildError(f"probing the base image {image} for its Python version failed: {exc}") from exc
    finally:
        if container is not None:
            _remove_quietly(container)
    if status.get("StatusCode") != 0:
        raise ImageBuildError(f"probing the base image {image} failed: {output.strip()[-300:]}")
    return parse_platform_probe(output, image)


def parse_platform_probe(output: str, image: str) -> BasePlatform:
    """Read the probe's three lines: machine, `glibc X.Y`, then `python X.Y` or `release CODENAME`."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    if len(lines) != 3 or not lines[1].startswith("glibc "):
        raise ImageBuildError(f"the base image {image} answered the platform probe with {output.strip()!r}")
    kind, _, value = lines[2].partition(" ")
    python_version = value if kind == "python" else DEBIAN_RELEASE_PYTHON.get(value)
    if python_version is None:
        raise ImageBuildError(
            f"the base image {image} is Debian '{value}', whose Python version is unknown; "
            f"use a base with python3 installed (BASE_IMAGE)"
        )
    return BasePlatform(python_version=python_version, machine=lines[0], glibc_version=lines[1].split()[1])


def _remove_quietly(container) -> None:
    """The probe container is ours alone; a failure to remove one already gone is not an error."""
    try:
        container.remove(force=True)
    except (docker.errors.NotFound, docker.errors.APIError):
        pass
