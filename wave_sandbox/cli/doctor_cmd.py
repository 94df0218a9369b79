"""`wave-sandbox doctor`: check Docker, the agent image, the repository, credentials and the sandbox's
controls; say what is missing.

A control the engine cannot give (the gateway socket on Docker Desktop or a remote engine; a cgroup
limit; seccomp) is shown as REDUCED: runs start, with less (SECURITY.md).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import typer

from wave_sandbox.errors import ConfigurationError, DockerUnavailableError, SandboxError
from wave_sandbox.sandbox.backend import BackendCapabilities, SandboxBackend
from wave_sandbox.sandbox.registry import get_backend
from wave_sandbox.sandbox.runtimes import GVISOR, GVISOR_INSTALL_HINT
from wave_sandbox.settings import resolve_settings
from wave_sandbox.settings.credentials import API_KEY_VARIABLE, OPENAI_KEY_VARIABLE, api_key_is_set, openai_key_is_set
from wave_sandbox.workspace.repository import has_commits, is_git_repository
from wave_sandbox.workspace.repository_root import repository_root

Check = tuple[str, bool, str]


def check_backend(backend: SandboxBackend) -> tuple[Check, BackendCapabilities | None]:
    """Whether the engine answers, and what it can give when it does."""
    try:
        capabilities = backend.capabilities()
    except (DockerUnavailableError, SandboxError) as error:
        return ("docker", False, str(error)), None
    return ("docker", True, f"engine {capabilities.engine} answers"), capabilities


def check_image(capabilities: BackendCapabilities) -> Check:
    return ("agent image", capabilities.images_present, capabilities.image_detail)


def check_repository(repo: Path) -> Check:
    if not is_git_repository(repo):
        return ("repository", False, f"{repo} is not a git repository; read-write steps (remediate) need one")
    if not has_commits(repo):  # a run with a read-write step refuses it (exit 2): so does doctor
        return ("commits", False, f"{repo} is a git repository without commits; read-write steps clone the "
                                  "last commit: commit something first")
    return ("repository", True, f"{repo} is a git checkout")


def check_credentials() -> Check:
    if api_key_is_set():
        return ("credentials", True, f"{API_KEY_VARIABLE} is set (it stays on the host, in the gateway)")
    if openai_key_is_set():
        return ("credentials", True, f"{OPENAI_KEY_VARIABLE} is set for --model openai:ID (it stays on the host)")
    return ("credentials", False, f"{API_KEY_VARIABLE} is not set; export it (or {OPENAI_KEY_VARIABLE}), point "
            "--upstream-url at a local server, or use --model scripted:FILE offline")


def check_controls(capabilities: BackendCapabilities) -> list[Check]:
    """One REDUCED line per control the engine cannot give, or one ok line naming the full set."""
    missing = capabilities.reduced_controls
    if not missing:
        full_set = ("all sandbox controls hold: no network but the gateway's socket, memory/swap, pids and CPU "
                    "limits, seccomp")
        return [("controls", True, full_set)]
    return [("controls", False, line) for line in missing]


def check_gvisor(backend: SandboxBackend, capabilities: BackendCapabilities) -> Check:
    """Whether `--runtime runsc` would work: the engine lists runsc, and a tiny runsc container runs.

    Its absence is no fault (gVisor is optional); a runsc that is listed but fails is.
    """
    if GVISOR not in capabilities.runtimes:
        return ("gvisor", True, f"no runsc runtime (optional, for --runtime runsc): {GVISOR_INSTALL_HINT}")
    if not capabilities.images_present:
        return ("gvisor", True, "the engine has the runsc runtime (not tried: build the agent image first)")
    works, detail = backend.try_runtime(GVISOR)
    return ("gvisor", works, f"the engine has the runsc runtime; {detail}; use it with --runtime runsc")


def check_command(name: str, why: str) -> Check:
    if shutil.which(name):
        return (name, True, "installed")
    return (name, False, f"not installed; {why}")


def status_word(name: str, ok: bool) -> str:
    if ok:
        return "ok     "
    return {"controls": "REDUCED", "gvisor": "FAILING"}.get(name, "MISSING")


def doctor_command(
    repo: Path = typer.Option(Path("."), "--repo", help="The repository to check."),
    as_json: bool = typer.Option(False, "--json", help="One JSON document: the checks and the settings."),
) -> None:
    """Check what wave-sandbox needs on this machine and say what is missing."""
    repo = repository_root(repo)
    backend = get_backend()
    docker_check, capabilities = check_backend(backend)
    checks: list[Check] = [docker_check]
    if capabilities is not None:
        checks.append(check_image(capabilities))
        checks += check_controls(capabilities)
        checks.append(check_gvisor(backend, capabilities))
    checks += [
        check_repository(repo),
        check_credentials(),
        check_command("git", "install git"),
    ]
    settings_check, rows = check_settings(repo)
    checks.append(settings_check)
    if as_json:
        from wave_sandbox.cli.json_output import print_json

        print_json({"checks": [{"name": name, "ok": ok, "detail": detail} for name, ok, detail in checks],
                    "settings": [{"name": name, "value": value, "source": source} for name, value, source in rows]})
    else:
        for name, ok, detail in checks:
            typer.echo(f"{status_word(name, ok)} {name:<12} {detail}")
        print_settings_table(rows)
    essential_failed = any(not ok for name, ok, _ in checks if name in ("docker", "git", "settings", "commits"))
    raise typer.Exit(2 if essential_failed else 0)


def check_settings(repo: Path) -> tuple[Check, list[tuple[str, str, str]]]:
    """The effective settings and ceilings with their sources, or the one line saying what is wrong."""
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
