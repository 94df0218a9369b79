"""The agent image: named after a hash of what goes into it, built only when that name is missing.

The tag `wave-sandbox-agent:<hash12>` covers the Dockerfile, the code of the agent and of the evidence
pass (`wave-evidence`), the anthropic version, the base image's name and the daemon's architecture.
All of these are known without downloading anything, so an unchanged image is found with one lookup;
a change to any of them yields a new tag and a rebuild. The build context is assembled in a temporary
folder (Dockerfile, wheels/, code/) and built by the daemon with no network needed inside the build.
"""

from __future__ import annotations

import collections
import hashlib
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import docker
import docker.errors
import requests

from wave_sandbox.errors import ImageBuildError
from wave_sandbox.resources import PACKAGE_DIR, agent_image_dir
from wave_sandbox.sandbox.base_image import ensure_base_image, find_local_base_image, image_exists
from wave_sandbox.sandbox.base_platform import detect_base_platform
from wave_sandbox.sandbox.client import daemon_version
from wave_sandbox.sandbox.wheels import ensure_anthropic_wheels, installed_anthropic_version

__all__ = [
    "AGENT_IMAGE_LABELS",
    "AGENT_IMAGE_REPOSITORY",
    "AgentImageRecipe",
    "agent_image_hash",
    "build_agent_image",
    "ensure_agent_image",
    "image_status",
    "read_agent_image_recipe",
]

AGENT_IMAGE_REPOSITORY = "wave-sandbox-agent"
AGENT_IMAGE_LABELS = {"wave-sandbox.image": "agent"}
# Bump when this module changes what it puts into the build context, so old images are not reused.
BUILD_CONTEXT_LAYOUT_VERSION = "1"
BUILD_TIMEOUT_S = 900
BUILD_LOG_LINES_KEPT = 15
PROGRESS_LINE_WIDTH = 110

Notify = Callable[[str], None]


@dataclass(frozen=True)
class AgentImageRecipe:
    """Everything the agent image is made of, read once so that the hash and the build agree."""

    dockerfile: bytes
    """The Dockerfile's bytes."""
    code_files: Mapping[str, bytes]
    """Files baked in under /opt/wave-sandbox, by path relative to it (`wave_sandbox/agent/x.py`)."""
    anthropic_version: str
    """The SDK version installed, the host's own."""
    base_image: str
    """The image the Dockerfile starts FROM."""
    architecture: str
    """The daemon's architecture, as Docker names it ("amd64", "arm64")."""

    @property
    def tag(self) -> str:
        return f"{AGENT_IMAGE_REPOSITORY}:{agent_image_hash(self)}"


def agent_image_hash(recipe: AgentImageRecipe) -> str:
    """Twelve hex digits of a SHA-256 over every part of the recipe, each part length-prefixed."""
    digest = hashlib.sha256()

    def feed(name: str, data: bytes) -> None:
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)

    feed("layout", BUILD_CONTEXT_LAYOUT_VERSION.encode())
    feed("dockerfile", recipe.dockerfile)
    for relative_path in sorted(recipe.code_files):
        feed(f"code:{relative_path}", recipe.code_files[relative_path])
    feed("anthropic", recipe.anthropic_version.encode())
    feed("base", recipe.base_image.encode())
    feed("architecture", recipe.architecture.encode())
    return digest.hexdigest()[:12]


def read_agent_image_recipe(client: docker.DockerClient, base_image: str) -> AgentImageRecipe:
    """Read the Dockerfile and agent code from disk as they are now; downloads nothing."""
    dockerfile_path = agent_image_dir() / "Dockerfile"
    if not dockerfile_path.is_file():
        raise ImageBuildError(
            f"the agent image's Dockerfile is missing at {dockerfile_path}; reinstall wave-sandbox"
        )
    return AgentImageRecipe(
        dockerfile=dockerfile_path.read_bytes(),
        code_files=_read_agent_code(),
        anthropic_version=installed_anthropic_version(),
        base_image=base_image,
        architecture=_daemon_architecture(client),
    )


def ensure_agent_image(client: docker.DockerClient, notify: Notify) -> str:
    """Return the current agent image's tag, building it first when it is missing.

    `notify` receives one-line progress notices (for stderr); it is not called when the image exists.

    Raises:
        ImageBuildError: the base, the wheels or the image could not be made.
    """
    recipe = read_agent_image_recipe(client, ensure_base_image(client, notify))
    if image_exists(client, recipe.tag):
        return recipe.tag
    notify(f"Building the agent image {recipe.tag} (missing or out of date; this takes a minute)")
    return _build_agent_image(client, recipe, notify, use_layer_cache=True)


def image_status(client: docker.DockerClient) -> tuple[bool, str, str | None]:
    """Whether the current agent image exists, one line saying which it is or how to build it, and
    its tag when it exists. Looks only (no pull, no build).
    """
    base = find_local_base_image(client)
    if base is None:
        return False, "no base image yet; `wave-sandbox images build` makes one (a minute or two)", None
    tag = read_agent_image_recipe(client, base).tag
    if not image_exists(client, tag):
        return False, f"{tag} not built yet; `wave-sandbox images build` (or the first run) builds it", None
    return True, f"{tag} is built", tag


def build_agent_image(client: docker.DockerClient, notify: Notify, force: bool = False) -> str:
    """Build the agent image when missing, or always (ignoring Docker's layer cache) with `force`.

    Raises:
        ImageBuildError: the base, the wheels or the image could not be made.
    """
    if not force:
        return ensure_agent_image(client, notify)
    recipe = read_agent_image_recipe(client, ensure_base_image(client, notify))
    notify(f"Rebuilding the agent image {recipe.tag} from scratch")
    return _build_agent_image(client, recipe, notify, use_layer_cache=False)


def _build_agent_image(
    client: docker.DockerClient, recipe: AgentImageRecipe, notify: Notify, use_layer_cache: bool
) -> str:
    platform = detect_base_platform(client, recipe.base_image)
    wheels = ensure_anthropic_wheels(platform, recipe.anthropic_version, notify)
    with tempfile.TemporaryDirectory(prefix="wave-sandbox-image-") as scratch:
        context = Path(scratch)
        _assemble_build_context(context, recipe, wheels)
        _run_docker_build(client, context, recipe, notify, use_layer_cache)
    if not image_exists(client, recipe.tag):
        raise ImageBuildError(f"the build of {recipe.tag} finished without producing the image; retry")
    return recipe.tag


def _assemble_build_context(context: Path, recipe: AgentImageRecipe, wheels: Path) -> None:
    (context / "Dockerfile").write_bytes(recipe.dockerfile)
    shutil.copytree(wheels, context / "wheels", ignore=shutil.ignore_patterns(".*"))
    for relative_path, content in recipe.code_files.items():
        target = context / "code" / relative_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def _run_docker_build(
    client: docker.DockerClient, context: Path, recipe: AgentImageRecipe, notify: Notify, use_layer_cache: bool
) -> None:
    """Stream the daemon's build output: each `Step N/M` goes to notify, the last lines into any error."""
    last_lines: collections.deque[str] = collections.deque(maxlen=BUILD_LOG_LINES_KEPT)
    try:
        events = client.api.build(
            path=str(context),
            tag=recipe.tag,
            buildargs={"BASE_IMAGE": recipe.base_image, "ANTHROPIC_VERSION": recipe.anthropic_version},
            labels={**AGENT_IMAGE_LABELS, "wave-sandbox.base": recipe.base_image},
            nocache=not use_layer_cache,
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
            timeout=BUILD_TIMEOUT_S,
        )
        for event in events:
            _follow_build_event(event, recipe.tag, last_lines, notify)
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise ImageBuildError(_build_failure_message(recipe.tag, str(exc), last_lines)) from exc


def _follow_build_event(event: dict, tag: str, last_lines: collections.deque[str], notify: Notify) -> None:
    if "error" in event:
        raise ImageBuildError(_build_failure_message(tag, event["error"].strip(), last_lines))
    for line in event.get("stream", "").splitlines():
        if not line.strip():
            continue
        last_lines.append(line.rstrip())
        if line.startswith("Step "):
            notify(f"  {' '.join(line.split())[:PROGRESS_LINE_WIDTH]}")


def _build_failure_message(tag: str, error: str, last_lines: collections.deque[str]) -> str:
    shown = "\n".join(f"    {line}" for line in last_lines)
    return (
        f"building the agent image {tag} failed: {error}. "
        f"Fix the cause and run `wave-sandbox images build --force`. Last build output:\n{shown}"
    )


# Packages baked into the image: the agent, and the evidence pass it offers as `wave-evidence`.
# Both import only the standard library (and the agent, anthropic); tests check their imports.
IMAGE_PACKAGES = ("agent", "evidence")


def _read_agent_code() -> dict[str, bytes]:
    """The package marker and whatever modules of the image's packages exist now."""
    files = {"wave_sandbox/__init__.py": (PACKAGE_DIR / "__init__.py").read_bytes()}
    for package in IMAGE_PACKAGES:
        for path in sorted((PACKAGE_DIR / package).rglob("*.py")):
            files[path.relative_to(PACKAGE_DIR.parent).as_posix()] = path.read_bytes()
    return files


def _daemon_architecture(client: docker.DockerClient) -> str:
    try:
        return daemon_version(client)["Arch"]
    except (docker.errors.DockerException, requests.exceptions.RequestException, KeyError) as exc:
        raise ImageBuildError(f"the Docker daemon did not say its architecture: {exc}") from exc
