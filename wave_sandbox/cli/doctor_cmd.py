"""`wave-sandbox doctor`: check Docker, the agent image, the repository, credentials and the sandbox's
controls; say what is missing.

A control the engine cannot give (host firewall rules on rootless Docker, Docker Desktop or Podman; a
cgroup limit; seccomp) is shown as REDUCED: runs still work, with less isolation (SECURITY.md).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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


def check_image(client) -> tuple[Check, str | None]:
    """The agent image's check, and its tag when it is built."""
    from wave_sandbox.sandbox.base_image import find_local_base_image
    from wave_sandbox.sandbox.images import read_agent_image_recipe

    base = find_local_base_image(client)
    if base is None:
        return ("agent image", False, "no base image yet; `wave-sandbox images build` makes one (a minute or two)"), None
    tag = read_agent_image_recipe(client, base).tag
    try:
        client.images.get(tag)
    except Exception:
        return ("agent image", False, f"{tag} not built yet; `wave-sandbox images build` (or the first run) builds it"), None
    return ("agent image", True, f"{tag} is built"), tag


def check_repository(repo: Path) -> Check:
    from wave_sandbox.workspace.repository import is_git_repository

    if is_git_repository(repo):
        return ("repository", True, f"{repo} is a git checkout")
    return ("repository", False, f"{repo} is not a git repository; read-write steps (remediate) need one")


def check_credentials() -> Check:
    if os.environ.get("ANTHROPIC_API_KEY"):
        return ("credentials", True, "ANTHROPIC_API_KEY is set (it stays on the host, in the gateway)")
    return ("credentials", False, "ANTHROPIC_API_KEY is not set; export it, or use --model scripted:FILE offline")


def check_controls(client) -> list[Check]:
    """One REDUCED line per control the engine cannot give, or one ok line naming the full set."""
    from wave_sandbox.sandbox.controls import reduced_controls

    missing = reduced_controls(client)
    if not missing:
        full_set = "all sandbox controls hold: host firewall, memory/swap, pids and CPU limits, seccomp"
        return [("controls", True, full_set)]
    return [("controls", False, line) for line in missing]


def check_gvisor(client, image: str | None) -> Check:
    """Whether `--runtime runsc` would work: the engine lists runsc, and a tiny runsc container runs.

    Its absence is no fault (gVisor is optional); a runsc that is listed but fails is.
    """
    from wave_sandbox.sandbox.runtimes import (
        GVISOR,
        GVISOR_INSTALL_HINT,
        engine_runtimes,
        gvisor_probe,
        gvisor_seccomp_gap,
    )

    if GVISOR not in engine_runtimes(client):
        return ("gvisor", True, f"no runsc runtime (optional, for --runtime runsc): {GVISOR_INSTALL_HINT}")
    if image is None:
        return ("gvisor", True, "the engine has the runsc runtime (not tried: build the agent image first)")
    works, detail = gvisor_probe(client, image)
    gap = f"; {gvisor_seccomp_gap(client)}" if gvisor_seccomp_gap(client) else ""
    return ("gvisor", works, f"the engine has the runsc runtime; {detail}; use it with --runtime runsc{gap}")


def check_command(name: str, why: str) -> Check:
    if shutil.which(name):
        return (name, True, "installed")
    return (name, False, f"not installed; {why}")


def status_word(name: str, ok: bool) -> str:
    if ok:
        return "ok     "
    return {"controls": "REDUCED", "gvisor": "FAILING"}.get(name, "MISSING")


@app.command("doctor")
def doctor_command(repo: Path = typer.Option(Path("."), "--repo", help="The repository to check.")) -> None:
    """Check what wave-sandbox needs on this machine and say what is missing."""
    docker_check, client = check_docker()
    checks: list[Check] = [docker_check]
    if client is not None:
        image_check, image = check_image(client)
        checks.append(image_check)
        checks += check_controls(client)
        checks.append(check_gvisor(client, image))
    checks += [
        check_repository(repo.resolve()),
        check_credentials(),
        check_command("git", "install git"),
        check_command("iptables", "install iptables so a step's container reaches only its gateway port"),
    ]
    settings_check, rows = check_settings(repo.resolve())
    checks.append(settings_check)
    for name, ok, detail in checks:
        typer.echo(f"{status_word(name, ok)} {name:<12} {detail}")
    print_settings_table(rows)
    essential_failed = any(not ok for name, ok, _ in checks if name in ("docker", "git", "settings"))
    raise typer.Exit(2 if essential_failed else 0)


def check_settings(repo: Path) -> tuple[Check, list[tuple[str, str, str]]]:
    """The effective settings and ceilings with their sources, or the one line saying what is wrong."""
    from wave_sandbox.errors import ConfigurationError
    from wave_sandbox.settings import resolve_settings

    try:
        settings = resolve_settings(repo)
    except ConfigurationError as error:
        return ("settings", False, str(error).replace("\n", "; ")), []
    return ("settings", True, "flags, WAVE_SANDBOX_* variables, config files and the policy agree"), settings.rows()


def print_settings_table(rows: list[tuple[str, str, str]]) -> None:
    if not rows:
        return
    width = max(len(name) for name, _, _ in rows)
    value_width = min(max(len(value) for _, value, _ in rows), 24)
    typer.echo("")
    typer.echo(f"{'setting':<{width}}  {'value':<{value_width}}  source")
    for name, value, source in rows:
        typer.echo(f"{name:<{width}}  {value:<{value_width}}  {source}")
