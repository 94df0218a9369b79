"""`wave-sandbox validate PIPELINE`: load and check a pipeline without running it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from wave_sandbox.errors import SpecError
from wave_sandbox.spec.loader import find_pipeline_file, load_pipeline
from wave_sandbox.spec.problems import Problem, display_path, sorted_problem_lines
from wave_sandbox.text_safety import printable_inline
from wave_sandbox.workspace.repository_root import repository_root

PipelineArgument = Annotated[
    str,
    typer.Argument(
        help="A pipeline name (looked up in .wave/pipelines, .agents/pipelines, then the built-ins) "
        "or a path to a pipeline file.",
        metavar="PIPELINE",
        show_default=False,
    ),
]
RepoOption = Annotated[
    Path | None,
    typer.Option("--repo", help="The repository the pipeline runs against (default: the current folder).",
                 show_default=False),
]


JsonOption = Annotated[bool, typer.Option("--json", help="One JSON document: the pipeline, or its problems.")]


def validate_command(pipeline: PipelineArgument, repo: RepoOption = None, as_json: JsonOption = False) -> None:
    """Check a pipeline (and the repository's .wave/config.yaml) against the format and the operator's
    policy: every problem on its own line as FILE:LINE: place: message; exit 2 if any."""
    from wave_sandbox.settings import load_ceilings, repository_config_collecting

    repo_folder = repository_root(repo)
    path = find_pipeline_file(pipeline, repo_folder)
    ceilings = load_ceilings()
    config_problems: list[Problem] = []
    repository_config_collecting(repo_folder, ceilings, config_problems)
    try:
        loaded = load_pipeline(path, repo_folder, ceilings)
    except SpecError as error:
        exit_with_problems(sorted_problem_lines(config_problems) + error.problems, as_json, path)
    if config_problems:
        exit_with_problems(sorted_problem_lines(config_problems), as_json, path)
    step_count = len(loaded.pipeline.steps)
    plural = "s" if step_count != 1 else ""
    if as_json:
        from wave_sandbox.cli.json_output import print_json

        print_json({"valid": True, "pipeline": loaded.name, "path": display_path(path),
                    "steps": [step.id for step in loaded.pipeline.steps], "problems": []})
        return
    typer.echo(printable_inline(f"OK: {loaded.name} ({step_count} step{plural}) from {display_path(path)}"))


def exit_with_problems(problems: list[str], as_json: bool = False, path: Path | None = None) -> NoReturn:
    """Print each problem on its own line on stderr (no "Error:" prefix, so every line starts with
    FILE:LINE and editors can jump to it), or them all in one JSON document on stdout; exit 2."""
    if as_json:
        from wave_sandbox.cli.json_output import print_json

        print_json({"valid": False, "pipeline": None, "path": display_path(path) if path else None, "steps": [],
                    "problems": problems})
        raise typer.Exit(2)
    for problem in problems:
        typer.echo(printable_inline(problem), err=True)
    raise typer.Exit(2)
