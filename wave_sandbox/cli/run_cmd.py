"""`wave-sandbox run PIPELINE [INPUT]`: run a pipeline, every step in its own container."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from wave_sandbox.errors import ConfigurationError
from wave_sandbox.text_safety import printable_text
from wave_sandbox.workspace.repository_root import repository_root

# The engine, the settings and the displays are imported when a command runs: every other command
# (and --help) starts without them.


def notify(message: str) -> None:
    """Notices and warnings go to stderr, so stdout stays the step lines (or pure JSON); they may
    name repository files and quote agents, so they pass the sanitizer."""
    print(printable_text(message), file=sys.stderr, flush=True)


def build_listeners(json_output: bool) -> list:
    """How the run is shown: one JSON object per event, or the console's step lines."""
    from wave_sandbox.cli.render import ConsoleRenderer, JsonLinesRenderer

    return [JsonLinesRenderer(sys.stdout) if json_output else ConsoleRenderer(sys.stdout)]


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
        resolved.append(path.resolve())
    names = [path.name for path in resolved]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigurationError(f"--attach: two attachments are named {duplicates[0]!r}; rename one")
    return resolved


def output_folder_of(output: Optional[Path], repo: Path) -> tuple[Path, str]:
    """--output as a path and as shown; without it, `output/` at the repository's top level (as the seed shows)."""
    from wave_sandbox.engine.run_file import DEFAULT_OUTPUT

    if output is None:
        return repo / DEFAULT_OUTPUT, DEFAULT_OUTPUT
    return output.expanduser().resolve(), str(output)


def split_names(value: Optional[str]) -> Optional[list[str]]:
    if not value:
        return None
    return [name.strip() for name in value.split(",") if name.strip()]


def run_command(
    pipeline: str = typer.Argument(..., help="Pipeline name or path to a pipeline YAML file."),
    input_text: Optional[str] = typer.Argument(None, metavar="[INPUT]", help="The input; '-' reads stdin."),
    repo: Path = typer.Option(Path("."), "--repo", help="The repository to run against (default: the one holding the cwd)."),
    model: Optional[str] = typer.Option(None, "--model", help="anthropic:MODEL_ID or scripted:FILE."),
    output: Optional[Path] = typer.Option(
        None, "--output", help="Where artifacts are delivered (default: output/ at the repository's top level)."
    ),
    json_output: bool = typer.Option(False, "--json", help="One JSON object per event on stdout."),
    max_parallel: Optional[int] = typer.Option(
        None, "--max-parallel", min=1, help="Steps at once (default: the settings', else the CPU count)."
    ),
    step_timeout: Optional[int] = typer.Option(
        None, "--step-timeout", min=1, help="Seconds per step (default: the settings', else 900)."
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
) -> None:
    """Run PIPELINE with every step in its own container."""
    from wave_sandbox.engine.launch import launch_run
    from wave_sandbox.engine.runner import RunOptions
    from wave_sandbox.sandbox.registry import get_backend
    from wave_sandbox.settings import SettingFlags, resolve_settings
    from wave_sandbox.sandbox.runtimes import check_runtime_name

    repo = repository_root(repo)
    flags = SettingFlags(model=model, max_parallel=max_parallel, step_timeout_s=step_timeout, runtime=runtime)
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
    )
    result = launch_run(pipeline, repo, options, get_backend(), build_listeners(json_output), notify)
    finish_run_output(result)


def finish_run_output(result) -> None:
    """After the closing lines: the resume command of a failed run; then the run's exit code."""
    from wave_sandbox.cli.resume_hint import print_resume_hint

    if result.exit_code != 0:  # the record lies at <repo>/.wave/runs/<run-id>
        print_resume_hint(result.run_id, result.record_folder.parent.parent.parent)
    raise typer.Exit(result.exit_code)
