"""The agent image against the real daemon: what is inside it, and that an unchanged image is reused."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.integration.conftest import git
from wave_sandbox.sandbox.images import AGENT_IMAGE_REPOSITORY, ensure_agent_image

pytestmark = pytest.mark.docker


def run_in_image(docker, image: str, script: str, user: str | None = None, volumes=None) -> tuple[int, str]:
    """Run `sh -c script` to the end in a fresh container (removed in finally); return status and output."""
    container = docker.containers.create(
        image, ["sh", "-c", script], user=user, volumes=volumes or {}, network_disabled=True
    )
    try:
        container.start()
        status = container.wait(timeout=120)["StatusCode"]
        return status, container.logs(stdout=True, stderr=True).decode()
    finally:
        container.remove(force=True)


def test_the_tag_is_named_after_a_twelve_digit_hash(agent_image):
    repository, _, digest = agent_image.partition(":")
    assert repository == AGENT_IMAGE_REPOSITORY
    assert len(digest) == 12 and int(digest, 16) >= 0


def test_the_image_carries_the_agent_label(docker, agent_image):
    assert docker.images.get(agent_image).labels["wave-sandbox.image"] == "agent"


def test_python_imports_anthropic_and_the_agent_package(docker, agent_image):
    script = "python3 -c 'import anthropic, wave_sandbox.agent; print(anthropic.__version__)'"
    status, output = run_in_image(docker, agent_image, script)
    assert status == 0, output
    assert output.strip() == importlib.metadata.version("anthropic")


def test_git_ripgrep_bash_and_tini_are_installed(docker, agent_image):
    programs = ["git", "rg", "bash", "tini", "grep", "ls"]
    status, output = run_in_image(docker, agent_image, f"for p in {' '.join(programs)}; do command -v $p; done")
    assert status == 0, output
    assert output.split() == [f"/usr/bin/{program}" for program in programs]


def test_tini_is_pid_one(docker, agent_image):
    status, output = run_in_image(docker, agent_image, "cat /proc/1/comm")
    assert (status, output.strip()) == (0, "tini")


def test_the_default_user_is_wave_and_uid_10001_works(docker, agent_image):
    status, output = run_in_image(docker, agent_image, "id -un; id -u; echo $HOME")
    assert (status, output.split()) == (0, ["wave", "10001", "/home/wave"])
    script = "id -u; touch /home/wave/x /workspace/y"
    status, output = run_in_image(docker, agent_image, script, user="10001:10001")
    assert (status, output.strip()) == (0, "10001")


def test_workspace_and_wave_exist_and_the_code_path_is_set(docker, agent_image):
    script = "test -d /workspace && test -d /wave && echo $PYTHONPATH $PYTHONDONTWRITEBYTECODE $PYTHONUNBUFFERED"
    status, output = run_in_image(docker, agent_image, script)
    assert (status, output.strip()) == (0, "/opt/wave-sandbox 1 1")


def test_agent_code_and_anthropic_are_precompiled(docker, agent_image):
    check = (
        "import anthropic, importlib.util, pathlib\n"
        "roots = [pathlib.Path('/opt/wave-sandbox'), pathlib.Path(anthropic.__file__).parent]\n"
        "sources = [p for root in roots for p in root.rglob('*.py')]\n"
        "compiled = lambda p: pathlib.Path(importlib.util.cache_from_source(str(p))).exists()\n"
        "missing = [str(p) for p in sources if not compiled(p)]\n"
        "print(len(sources), len(missing), missing[:3])\n"
    )
    status, output = run_in_image(docker, agent_image, f"python3 -c \"{check}\"")
    assert status == 0, output
    sources, missing, _ = output.split(" ", 2)
    assert int(sources) > 100 and int(missing) == 0, output


def test_git_reads_a_read_only_repository_of_another_owner(docker, agent_image, repo: Path):
    repo.chmod(0o755)  # the container's uid must be able to list it; its owner stays the host's uid
    volumes = {str(repo): {"bind": "/src", "mode": "ro"}}
    status, output = run_in_image(docker, agent_image, "git -C /src log --format=%s", volumes=volumes)
    assert (status, output.split("\n")[:2]) == (0, ["Break the handler", "Initial service"])
    # Without the image's system gitconfig git refuses the repository: the setting above is what works.
    status, output = run_in_image(docker, agent_image, "GIT_CONFIG_NOSYSTEM=1 git -C /src log", volumes=volumes)
    assert status != 0 and "dubious ownership" in output
    assert git(repo, "status", "--porcelain") == ""


def test_no_binary_is_setuid_or_setgid(docker, agent_image):
    status, output = run_in_image(docker, agent_image, "find / -xdev -perm /6000 -type f", user="0:0")
    assert (status, output.strip()) == (0, "")


def test_a_second_ensure_is_fast_and_returns_the_same_tag(docker, agent_image):
    notices: list[str] = []
    started = time.monotonic()
    tag = ensure_agent_image(docker, notices.append)
    assert time.monotonic() - started < 5
    assert (tag, notices) == (agent_image, [])


def test_images_build_prints_the_image_name_on_stdout(agent_image):
    from wave_sandbox.cli.app import app, register_commands

    register_commands(["images"])
    result = CliRunner().invoke(app, ["images", "build"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == agent_image


def test_a_failing_build_raises_image_build_error_with_the_last_output(docker, agent_image):
    from wave_sandbox.errors import ImageBuildError
    from wave_sandbox.sandbox.images import _build_agent_image, read_agent_image_recipe

    base = docker.images.get(agent_image).labels["wave-sandbox.base"]
    recipe = read_agent_image_recipe(docker, base)
    failing_dockerfile = b"ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo about-to-fail && exit 3\n"
    broken = dataclasses.replace(recipe, dockerfile=failing_dockerfile)
    with pytest.raises(ImageBuildError) as failure:
        _build_agent_image(docker, broken, lambda message: None, use_layer_cache=True)
    assert broken.tag in str(failure.value) and "about-to-fail" in str(failure.value)
    assert "returned a non-zero code: 3" in str(failure.value)
    assert not docker.images.list(name=broken.tag)
