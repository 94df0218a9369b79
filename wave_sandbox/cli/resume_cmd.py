"""`wave-sandbox resume RUN`: continue a failed or interrupted run from its first unfinished step."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from wave_sandbox.cli.run_cmd import build_listeners, finish_run_output, notify, notify_cost, step_timeout_flag
from wave_sandbox.workspace.repository_root import repository_root


def resume_command(
    run: str = typer.Argument(..., help="Run id, a unique prefix of it, or 'latest'."),
    repo: Path = typer.Option(Path("."), "--repo", help="The repository (default: the one holding the cwd)."),
    model: Optional[str] = typer.Option(None, "--model", help="Override the run's model (anthropic:ID or scripted:FILE)."),
    json_output: bool = typer.Option(False, "--json", help="One JSON object per event on stdout."),
    keep: bool = typer.Option(False, "--keep", help="Keep containers and the clone for debugging."),
    runtime: Optional[str] = typer.Option(
        None, "--runtime", metavar="runc|runsc", help="Override the run's container runtime (default: the run's)."
    ),
    upstream_url: Optional[str] = typer.Option(
        None, "--upstream-url", help="An Anthropic- or OpenAI-compatible server for the model (host side only)."
    ),
    upstream_local: Optional[bool] = typer.Option(
        None, "--upstream-local/--no-upstream-local", help="The --upstream-url server runs a small local model."
    ),
    step_timeout: Optional[str] = typer.Option(
        None, "--step-timeout", metavar="DURATION", help="Time per step from now on: 90s, 15m, 2h or seconds "
        "(default: the run's).",
    ),
    max_parallel: Optional[int] = typer.Option(
        None, "--max-parallel", min=1, help="Steps at once from now on (default: the run's)."
    ),
    from_step: Optional[str] = typer.Option(
        None, "--from-step", help="Run this step and every step after it again (also in a completed run)."
    ),
    approve: Optional[list[str]] = typer.Option(
        None, "--approve", metavar="STEP", help="Approve this gate step without asking; repeatable."
    ),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Every approval gate takes its default choice."),
) -> None:
    """Re-run a failed or interrupted run, reusing the artifacts of its finished steps."""
    from wave_sandbox.engine.launch import launch_resume
    from wave_sandbox.sandbox.registry import get_backend
    from wave_sandbox.sandbox.runtimes import check_runtime_name
    from wave_sandbox.settings import SettingFlags, resolve_settings

    # the policy binds a resume too; without --runtime the run keeps the runtime it recorded
    repo = repository_root(repo)
    step_timeout_s = step_timeout_flag(step_timeout)
    flags = SettingFlags(model=model, runtime=runtime, upstream_url=upstream_url, upstream_local=upstream_local,
                         step_timeout_s=step_timeout_s, max_parallel=max_parallel)
    settings = resolve_settings(repo, flags)
    chosen_runtime = check_runtime_name(settings.runtime.value) if runtime else None
    result = launch_resume(
        run, repo, model, keep, get_backend(), build_listeners(json_output, repo), notify,
        settings.upstream_url.value, chosen_runtime, settings.upstream_local.value,
        step_timeout_s=step_timeout_s, max_parallel=max_parallel, from_step=from_step,
        approve=tuple(approve or ()), auto_approve=auto_approve,
    )
    notify_cost(result)
    finish_run_output(result)
