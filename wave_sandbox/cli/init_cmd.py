"""`wave-sandbox init`: scaffold `.wave/` in a repository, never overwriting what is there."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wave_sandbox.resources import builtin_pipelines_dir
from wave_sandbox.workspace.repository_root import repository_root

RUNS_IGNORE_ENTRY = ".wave/runs/"
RUNS_IGNORE_EQUIVALENTS = {".wave/runs/", ".wave/runs", "/.wave/runs/", "/.wave/runs", ".wave/runs/*", "/.wave/runs/*"}

PERSONAS_README = """\
# Personas for this repository

wave-sandbox ships five personas: navigator, auditor, philosopher, craftsman, summarizer
(`wave-sandbox list` shows them). Files here change them for this repository only:

- `NAME.md` replaces the persona's system prompt (a plain prompt, as Wave keeps them).
- `NAME.yaml` overrides some of its settings; keys you leave out keep the built-in values:

  ```yaml
  description: Triage for the payments team
  tools: [bash, read_file, write_file, list_files, grep]   # also: edit_file
  model: null            # a model id, or null for the run's default
  max_tokens: 8192       # most output tokens per model answer
  max_turns: 40          # most model turns in one step
  limits: {cpus: 1.0, memory_mb: 1024, pids: 256, workspace_mb: 256}
  ```

- A new persona needs `NAME.md` (and optionally `NAME.yaml`); use it in a pipeline as `persona: NAME`.

Unknown keys are errors: `wave-sandbox validate PIPELINE` reports them with file and line.
"""

RepoOption = Annotated[
    Path | None,
    typer.Option("--repo", help="The repository to scaffold (default: the current folder).",
                 show_default=False),
]


def init_command(repo: RepoOption = None) -> None:
    """Scaffold .wave/ here: the incident-response pipeline to customise, a personas folder, and a
    .gitignore entry for run records. Existing files are kept as they are."""
    repo_folder = repository_root(repo)
    builtin_pipeline = builtin_pipelines_dir() / "incident-response.yaml"
    pipeline_text = builtin_pipeline.read_text(encoding="utf-8")
    report = [
        create_file_once(repo_folder, Path(".wave/pipelines/incident-response.yaml"), pipeline_text),
        # the pipeline's contracts name their schemas relative to the pipeline file
        *(create_file_once(repo_folder, Path(".wave/pipelines/schemas") / schema.name, schema.read_text(encoding="utf-8"))
          for schema in sorted((builtin_pipeline.parent / "schemas").glob("*.json"))),
        create_file_once(repo_folder, Path(".wave/personas/README.md"), PERSONAS_README),
        ignore_run_records(repo_folder),
    ]
    for line in report:
        typer.echo(line)
    repo_argument = f" --repo {repo}" if repo is not None else ""
    typer.echo(f"Next: wave-sandbox validate incident-response{repo_argument}, then edit .wave/ to taste")


def create_file_once(repo: Path, relative: Path, content: str) -> str:
    """Create `relative` under `repo` with `content` unless something is already there."""
    target = repo / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(target, "x", encoding="utf-8") as new_file:  # "x": never clobber, even a symlink
            new_file.write(content)
    except FileExistsError:
        return f"kept     {relative} (already there)"
    return f"created  {relative}"


def ignore_run_records(repo: Path) -> str:
    """Add `.wave/runs/` to the repository's .gitignore once."""
    gitignore = repo / ".gitignore"
    existing = gitignore.read_text(encoding="utf-8") if gitignore.is_file() else ""
    if any(line.strip() in RUNS_IGNORE_EQUIVALENTS for line in existing.splitlines()):
        return f"kept     .gitignore (already ignores {RUNS_IGNORE_ENTRY})"
    separator = "" if not existing or existing.endswith("\n") else "\n"
    with open(gitignore, "a", encoding="utf-8") as ignore_file:
        ignore_file.write(f"{separator}{RUNS_IGNORE_ENTRY}\n")
    return f"{'updated ' if existing else 'created '} .gitignore (ignores {RUNS_IGNORE_ENTRY})"
