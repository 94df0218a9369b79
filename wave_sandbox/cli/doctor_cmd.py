"""`wave-sandbox doctor`: check Docker, the agent image, the repository and credentials; say what is missing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

import typer

from wave_sandbox.cli.app import app

Check = tuple[str, bool, str]


def check_docker() -> tuple[Check, object | None]:
    from wave_sandbox.errors import DockerUnavailableError
    from wave_sandbox.sandbox.client import docker_client

    try:
        client = docker_client()
        version = client.version().get("Version", "?")
    except DockerUnavailableError as error:
        return ("docker", False, str(error)), None
    return ("docker", True, f"engine {version} answers"), client


def check_image(client) -> Check:
    from wave_sandbox.sandbox.base_image import find_local_base_image
    from wave_sandbox.sandbox.images import read_agent_image_recipe

    base = find_local_base_image(client)
    if base is None:
        return ("agent image", False, "no base image yet; `wave-sandbox images build` makes one (a minute or two)")
    tag = read_agent_image_recipe(client, base).tag
    try:
        client.images.get(tag)
    except Exception:
        return ("agent image", False, f"{tag} not built yet; `wave-sandbox images build` (or the first run) builds it")
    return ("agent image", True, f"{tag} is built")


def check_repository(repo: Path) -> Check:
    from wave_sandbox.workspace.repository import is_git_repository

    if is_git_repository(repo):
        return ("repository", True, f"{repo} is a git checkout")
    return ("repository", False, f"{repo} is not a git repository; read-write steps (remediate) need one")


def check_credentials() -> Check:
    if os.environ.get("ANTHROPIC_API_KEY"):
        return ("credentials", True, "ANTHROPIC_API_KEY is set (it stays on the host, in the gateway)")
    return ("credentials", False, "ANTHROPIC_API_KEY is not set; export it, or use --model scripted:FILE offline")


def check_command(name: str, why: str) -> Check:
    if shutil.which(name):
        return (name, True, "installed")
    return (name, False, f"not installed; {why}")


@app.command("doctor")
def doctor_command(repo: Path = typer.Option(Path("."), "--repo", help="The repository to check.")) -> None:
    """Check what wave-sandbox needs on this machine and say what is missing."""
    docker_check, client = check_docker()
    checks: list[Check] = [docker_check]
    if client is not None:
        checks.append(check_image(client))
    checks += [
        check_repository(repo.resolve()),
        check_credentials(),
        check_command("git", "install git"),
        check_command("iptables", "install iptables so a step's container reaches only its gateway port"),
    ]
    for name, ok, detail in checks:
        typer.echo(f"{'ok     ' if ok else 'MISSING'} {name:<12} {detail}")
    essential_failed = any(not ok for name, ok, _ in checks if name in ("docker", "git"))
    raise typer.Exit(2 if essential_failed else 0)
