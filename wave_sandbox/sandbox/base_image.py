"""The Debian base the agent image is built on: pulled when a registry answers, else bootstrapped here.

The Dockerfile's normal base is `debian:bookworm-slim`. Machines without a reachable registry (our CI
among them) get an equivalent base made locally with `debootstrap` and `docker import`; it already holds
every system package the agent needs, so the Dockerfile's apt step skips itself and the build needs no
network. The bootstrapped base is named after its package list and reused while that list is unchanged.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Callable

import docker
import docker.errors
import requests

from wave_sandbox.errors import ImageBuildError

__all__ = [
    "BOOTSTRAP_PACKAGES",
    "DEBIAN_BASE_IMAGE",
    "bootstrapped_base_name",
    "ensure_base_image",
    "find_local_base_image",
]

DEBIAN_BASE_IMAGE = "debian:bookworm-slim"
DEBIAN_SUITE = "bookworm"
DEFAULT_DEBIAN_MIRROR = "http://deb.debian.org/debian"
# The agent's system packages; bash, coreutils and grep come with every Debian base.
BOOTSTRAP_PACKAGES = (
    "python3", "python3-pip", "git", "ripgrep", "tini", "ca-certificates", "procps", "jq", "sqlite3",
)
BOOTSTRAPPED_BASE_REPOSITORY = "wave-sandbox-base"
# Long enough for a registry that answers slowly, short enough not to stall a run when none answers.
PULL_FIRST_ANSWER_TIMEOUT_S = 30
# Docs, manuals and translations the agent never reads (the same trimming as Debian's slim images).
TRIMMED_ROOTFS_GLOBS = (
    "var/cache/apt/*.bin",
    "var/cache/apt/archives/*.deb",
    "var/lib/apt/lists/*",
    "usr/share/man/*",
    "usr/share/info/*",
    "usr/share/locale/*",
    "usr/share/doc/*/*",
)
KEPT_ROOTFS_FILES = ("copyright", "locale.alias")
IMPORTED_IMAGE_SETTINGS = [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    "LABEL wave-sandbox.image=base",
    'CMD ["bash"]',
]

Notify = Callable[[str], None]


def bootstrapped_base_name() -> str:
    """`wave-sandbox-base:bookworm-<hash>`, the hash covering everything debootstrap is asked for."""
    recipe = "\n".join([DEBIAN_SUITE, "minbase", *sorted(BOOTSTRAP_PACKAGES), *TRIMMED_ROOTFS_GLOBS])
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:12]
    return f"{BOOTSTRAPPED_BASE_REPOSITORY}:{DEBIAN_SUITE}-{digest}"


def find_local_base_image(client: docker.DockerClient) -> str | None:
    """The base already present on the daemon, preferring Debian's own image; None when neither is."""
    for name in (DEBIAN_BASE_IMAGE, bootstrapped_base_name()):
        if image_exists(client, name):
            return name
    return None


def ensure_base_image(client: docker.DockerClient, notify: Notify) -> str:
    """Return the name of a base image present on the daemon, pulling or bootstrapping one if needed.

    Raises:
        ImageBuildError: no registry answers and the local bootstrap is impossible or fails.
    """
    local = find_local_base_image(client)
    if local is not None:
        return local
    notify(f"Pulling {DEBIAN_BASE_IMAGE} for the agent image")
    if _pull_within(client, DEBIAN_BASE_IMAGE, PULL_FIRST_ANSWER_TIMEOUT_S):
        return DEBIAN_BASE_IMAGE
    name = bootstrapped_base_name()
    notify(
        f"No registry reachable to pull {DEBIAN_BASE_IMAGE}; bootstrapping a Debian {DEBIAN_SUITE} base "
        f"locally with debootstrap as {name} (about a minute, once)"
    )
    bootstrap_debian_base(client, name)
    return name


def bootstrap_debian_base(client: docker.DockerClient, name: str) -> None:
    """debootstrap a minimal Debian with the agent's packages, trim it, and import it as `name`."""
    _check_bootstrap_prerequisites()
    with tempfile.TemporaryDirectory(prefix="wave-sandbox-base-") as scratch:
        rootfs = Path(scratch) / "rootfs"
        try:
            _run_debootstrap(rootfs)
            _trim_rootfs(rootfs)
            archive = _pack_rootfs(rootfs, Path(scratch) / "rootfs.tar")
        finally:
            _unmount_everything_under(rootfs)
        _import_rootfs(client, archive, name)


def image_exists(client: docker.DockerClient, name: str) -> bool:
    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


def _pull_within(client: docker.DockerClient, name: str, first_answer_timeout_s: float) -> bool:
    """Pull `name`; give up when the registry has not answered within the timeout.

    docker-py pulls without a timeout, so the pull runs in a daemon thread that is abandoned (the
    daemon may still finish it; a later run then simply finds the image) when nothing answers.
    """
    answered = threading.Event()
    outcome: dict[str, bool] = {}

    def consume_pull_stream() -> None:
        try:
            for event in client.api.pull(name, stream=True, decode=True):
                answered.set()
                if "error" in event:
                    return
            outcome["pulled"] = True
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            return
        finally:
            answered.set()

    puller = threading.Thread(target=consume_pull_stream, name="wave-sandbox-pull", daemon=True)
    puller.start()
    if not answered.wait(first_answer_timeout_s):
        return False
    puller.join()
    return outcome.get("pulled", False) and image_exists(client, name)


def _check_bootstrap_prerequisites() -> None:
    no_registry = f"No registry answers to pull {DEBIAN_BASE_IMAGE}"
    if shutil.which("debootstrap") is None:
        raise ImageBuildError(
            f"{no_registry} and debootstrap is not installed. Install it (apt-get install debootstrap) "
            f"or load the base image (docker load) and retry."
        )
    if os.geteuid() != 0:
        raise ImageBuildError(
            f"{no_registry} and bootstrapping a Debian base with debootstrap needs root. "
            f"Run `sudo wave-sandbox images build` once, or load {DEBIAN_BASE_IMAGE} with docker load."
        )


def _run_debootstrap(rootfs: Path) -> None:
    mirror = os.environ.get("WAVE_SANDBOX_DEBIAN_MIRROR") or DEFAULT_DEBIAN_MIRROR
    command = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(BOOTSTRAP_PACKAGES)}",
        DEBIAN_SUITE,
        str(rootfs),
        mirror,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        last_lines = " | ".join((result.stdout + result.stderr).strip().splitlines()[-5:])
        raise ImageBuildError(
            f"debootstrap of a Debian {DEBIAN_SUITE} base from {mirror} failed (exit {result.returncode}): "
            f"{last_lines}. Check that the mirror is reachable or set WAVE_SANDBOX_DEBIAN_MIRROR."
        )


def _trim_rootfs(rootfs: Path) -> None:
    """Drop caches and docs; blank the host's DNS and hostname, which debootstrap copied in."""
    for pattern in TRIMMED_ROOTFS_GLOBS:
        for path in rootfs.glob(pattern):
            if path.name in KEPT_ROOTFS_FILES:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    for host_file in ("etc/resolv.conf", "etc/hostname"):
        target = rootfs / host_file
        if target.is_file() and not target.is_symlink():
            target.write_text("")


def _pack_rootfs(rootfs: Path, archive: Path) -> Path:
    """Tar the tree; /dev, /proc and /sys stay empty since Docker provides them at run time."""
    command = ["tar", "--numeric-owner", "--anchored", "-C", str(rootfs), "-cf", str(archive)]
    command += ["--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*", "."]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ImageBuildError(f"packing the bootstrapped Debian base failed: {result.stderr.strip()}")
    return archive


def _import_rootfs(client: docker.DockerClient, archive: Path, name: str) -> None:
    repository, tag = name.split(":", 1)
    try:
        client.api.import_image(
            src=str(archive), repository=repository, tag=tag, changes=IMPORTED_IMAGE_SETTINGS
        )
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise ImageBuildError(f"importing the bootstrapped Debian base as {name} failed: {exc}") from exc
    if not image_exists(client, name):
        raise ImageBuildError(f"importing the bootstrapped Debian base as {name} left no image behind")


def _unmount_everything_under(rootfs: Path) -> None:
    """A failed debootstrap can leave /proc or /sys mounted inside the tree; never rmtree through them."""
    prefix = str(rootfs.resolve()) + "/"
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        mount_points = [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]
    for mount_point in sorted(mount_points, key=len, reverse=True):
        subprocess.run(["umount", "--lazy", mount_point], capture_output=True, check=False)
