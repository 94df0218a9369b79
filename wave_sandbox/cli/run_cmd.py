"""`wave-sandbox run PIPELINE [INPUT]`: run a pipeline, every step in its own container."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

from wave_sandbox.cli.cost_line import format_cost_line
from wave_sandbox.cli.render import ConsoleRenderer, JsonLinesRenderer
from wave_sandbox.cli.report_cmd import ReportWriter
from wave_sandbox.cli.resume_hint import print_resume_hint
from wave_sandbox.engine.launch import launch_run
from wave_sandbox.engine.records import runs_root
from wave_sandbox.engine.run_file import DEFAULT_OUTPUT
from wave_sandbox.engine.runner import RunOptions
from wave_sandbox.engine.step_activity import ActivityWatcher
from wave_sandbox.errors import ConfigurationError
from wave_sandbox.gateway.user_prices import user_price_table
from wave_sandbox.sandbox.registry import get_backend
from wave_sandbox.sandbox.runtimes import check_runtime_name
from wave_sandbox.settings import SettingFlags, resolve_settings
from wave_sandbox.text_safety import printable_text
from wave_sandbox.units import parse_duration
from wave_sandbox.workspace.repository_root import repository_root

# The engine is imported with this module: cli.app loads only the module of the command a command line
# names, so other commands start without it. The live display (rich) is loaded on a terminal only.


def notify(message: str) -> None:
    """Notices and warnings go to stderr, so stdout stays the step lines (or pure JSON); they may
    name repository files and quote agents, so they pass the sanitizer."""
    print(printable_text(message), file=sys.stderr, flush=True)


def build_listeners(json_output: bool, repo: Path | None = None) -> list:
    """How the run is shown: one JSON object per event (with activity and heartbeat events), the live
    console on a terminal, or the console's plain step lines; after them, the commands to review the
    run's branch in `repo`, and the run report written."""
    if json_output:
        shown = watched(JsonLinesRenderer(sys.stdout), repo)
    elif repo is not None and wants_live_display(sys.stdout, os.environ):
        from wave_sandbox.cli.live_render import LiveConsoleRenderer

        shown = watched(LiveConsoleRenderer(sys.stdout, repo=repo), repo)
    else:
        shown = ConsoleRenderer(sys.stdout, repo=repo)
    return [shown] if repo is None else [shown, ReportWriter(repo)]


def wants_live_display(stream, environ) -> bool:
    """A terminal, and nobody asked for plain output (`NO_COLOR`, `TERM=dumb`)."""
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in environ and \
        environ.get("TERM", "") != "dumb"


def watched(display, repo: Path | None):
    """`display` fed by the step activity watcher (activity and heartbeat events between the run's own;
    a heartbeat every 10 s, or `WAVE_SANDBOX_HEARTBEAT_S`)."""
    if repo is None:
        return display
    heartbeat_s = float(os.environ.get("WAVE_SANDBOX_HEARTBEAT_S", "") or 10)
    return ActivityWatcher(lambda run_id: runs_root(repo) / run_id / "steps", display, heartbeat_s=heartbeat_s)


def read_input(input_text: Optional[str], input_file: Optional[Path]) -> str:
    if input_file is not None and input_text not in (None, "-"):
        raise ConfigurationError("give the input either as an argument or with --input-file, not both")
    if input_file is not None:
        try:
            return input_file.read_text()
        except OSError as exc:
            raise ConfigurationError(f"cannot read --input-file {input_file}: {exc.strerror}") from exc
    if input_text == "-":
        return sys.stdin.read()
    return input_text or ""


def check_attachments(paths: list[Path]) -> list[Path]:
    """Each attachment must exist, and names must differ: each lands at /wave/attachments/<name>."""
    resolved = []
    for path in paths:
        if not path.exists():
            raise ConfigurationError(f"--attach {path}: no such file or folder")
        if not (path.is_file() or path.is_dir()):  # a live socket would answer the step: connect ignores read-only
            raise ConfigurationError(f"--attach {path}: not a regular file or folder (a socket, FIFO or device)")
        resolved.append(path.resolve())
    names = [path.name for path in resolved]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigurationError(f"--attach: two attachments are named {duplicates[0]!r}; rename one")
    return resolved


def output_folder_of(output: Optional[Path], repo: Path) -> tuple[Path, str]:
    """--output as a path and as shown; without it, `output/` at the repository's top level (as the seed shows)."""
    if output is None:
        return repo / DEFAULT_OUTPUT, DEFAULT_OUTPUT
    return output.expanduser().resolve(), str(output)


def split_names(value: Optional[str]) -> Optional[list[str]]:
    if not value:
        return None
    return [name.strip() for name in value.split(",") if name.strip()]


def run_command(
    pipeline: str = typer.Argument(..., metavar="PIPELINE", help="Pipeline name or path to a pipeline YAML file."),
    input_text: Optional[str] = typer.Argument(None, metavar="INPUT", help="The input; '-' reads stdin."),
    repo: Path = typer.Option(Path("."), "--repo", help="The repository to run against (default: the one holding the cwd)."),
    model: Optional[str] = typer.Option(
        None, "--model", help="anthropic:MODEL_ID, openai:MODEL_ID, scripted:FILE, or mock (stub artifacts that pass "
        "the contracts: a dry run).",
    ),
    output: Optional[Path] = typer.Option(
        None, "--output", help="Where artifacts are delivered (default: output/ at the repository's top level)."
    ),
    json_output: bool = typer.Option(False, "--json", help="One JSON object per event on stdout."),
    max_parallel: Optional[int] = typer.Option(
        None, "--max-parallel", min=1, help="Steps at once (default: the settings', else the CPU count)."
    ),
    step_timeout: Optional[str] = typer.Option(
        None, "--step-timeout", metavar="DURATION", help="Time per step: 90s, 15m, 2h or seconds (default: the "
        "settings', else 15m).",
    ),
    steps: Optional[str] = typer.Option(None, "--steps", help="Run only these steps (comma-separated)."),
    exclude: Optional[str] = typer.Option(None, "--exclude", help="Skip these steps (comma-separated)."),
    keep: bool = typer.Option(False, "--keep", help="Keep containers and the clone for debugging."),
    input_file: Optional[Path] = typer.Option(None, "--input-file", help="Read the input from a file."),
    attach: Optional[list[Path]] = typer.Option(
        None, "--attach", help="A log export, metrics file or trace (file or folder) for the agents; repeatable."
    ),
    runtime: Optional[str] = typer.Option(
        None, "--runtime", metavar="runc|runsc", help="Container runtime of the steps (default: the engine's)."
    ),
    max_cost: Optional[float] = typer.Option(
        None, "--max-cost", metavar="USD", min=0.0, help="Stop the run before its model requests cost more."
    ),
    upstream_url: Optional[str] = typer.Option(
        None, "--upstream-url", help="An Anthropic- or OpenAI-compatible server for the model (host side only)."
    ),
    upstream_local: Optional[bool] = typer.Option(
        None, "--upstream-local/--no-upstream-local", help="The --upstream-url server runs a small local model."
    ),
    approve: Optional[list[str]] = typer.Option(
        None, "--approve", metavar="STEP", help="Approve this gate step without asking; repeatable."
    ),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Every approval gate takes its default choice."),
) -> None:
    """Run PIPELINE with every step in its own container."""
    repo = repository_root(repo)
    flags = SettingFlags(model=model, max_parallel=max_parallel, step_timeout_s=step_timeout_flag(step_timeout),
                         runtime=runtime, upstream_url=upstream_url, upstream_local=upstream_local, max_cost_usd=max_cost)
    settings = resolve_settings(repo, flags)
    output_dir, output_display = output_folder_of(output, repo)
    options = RunOptions(
        input_text=read_input(input_text, input_file),
        output_dir=output_dir,
        output_display=output_display,
        model_spec=settings.model.value,
        max_parallel=settings.max_parallel.value,
        step_timeout_s=settings.step_timeout_s.value,
        upstream_url=settings.upstream_url.value,
        only=split_names(steps),
        exclude=split_names(exclude),
        keep=keep,
        attachments=check_attachments(attach or []),
        runtime=check_runtime_name(settings.runtime.value),
        max_cost_usd=settings.max_cost_usd.value,
        prices=user_price_table(),
        upstream_local=settings.upstream_local.value,
        token_budgets=(settings.step_tokens.value, settings.run_tokens.value),
        approve=tuple(approve or ()),
        auto_approve=auto_approve,
    )
    result = launch_run(pipeline, repo, options, get_backend(), build_listeners(json_output, repo), notify)
    notify_cost(result)
    finish_run_output(result)


def finish_run_output(result) -> None:
    """After the closing lines: the resume command of a failed run; then the run's exit code."""
    if result.exit_code != 0:  # the record lies at <repo>/.wave/runs/<run-id>
        print_resume_hint(result.run_id, result.record_folder.parent.parent.parent)
    raise typer.Exit(result.exit_code)


def step_timeout_flag(text: Optional[str]) -> Optional[int]:
    """--step-timeout in seconds: `900`, `90s`, `15m`, `2h`; one line for anything else (exit 2)."""
    if text is None:
        return None
    try:
        seconds = parse_duration(text)
    except ValueError as error:
        raise ConfigurationError(f"--step-timeout: {error}") from error
    if seconds < 1:
        raise ConfigurationError("--step-timeout: give at least 1s")
    return seconds


def notify_cost(result) -> None:
    """The cost line, on stderr after the closing lines."""
    notify(format_cost_line(result))
