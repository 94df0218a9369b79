"""Which built-ins a repository replaces, so a run can say so before it starts.

A repository's `.wave/pipelines/incident-response.yaml` (or `.agents/pipelines/...`) wins the name
lookup over the built-in pipeline, and `.wave/personas/NAME.md`/`.yaml` change a built-in persona's
prompt or settings. Both are allowed (teams tune their pipelines), but the repository is untrusted
input, so the operator is told, once, at the start of the run (SECURITY.md).
"""

from __future__ import annotations

from pathlib import Path

from wave_sandbox.resources import builtin_personas_dir, builtin_pipelines_dir
from wave_sandbox.spec.problems import display_path

PIPELINE_SUFFIXES = (".yaml", ".yml")


def builtin_pipeline_names() -> set[str]:
    folder = builtin_pipelines_dir()
    return {path.stem for path in folder.glob("*") if path.suffix in PIPELINE_SUFFIXES}


def overridden_builtins(pipeline_file: Path, pipeline_name: str, persona_names: list[str], repo: Path) -> list[str]:
    """One phrase per built-in the repository replaces for this run (pipeline first, then personas)."""
    phrases = []
    builtin_folder = builtin_pipelines_dir().resolve()
    is_builtin_file = pipeline_file.resolve().parent == builtin_folder
    names = {pipeline_file.stem, pipeline_name} & builtin_pipeline_names()
    if names and not is_builtin_file:
        phrases.append(f"pipeline {sorted(names)[0]} by {display_path(pipeline_file)}")
    for name in sorted(set(persona_names)):
        replaced = _persona_files_in_repository(name, repo)
        if replaced and (builtin_personas_dir() / f"{name}.md").is_file():
            phrases.append(f"persona {name} by {' and '.join(replaced)}")
    return phrases


def overrides_notice(pipeline_file: Path, pipeline_name: str, persona_names: list[str], repo: Path) -> str | None:
    """The notice line a run prints on stderr, or None when the repository replaces no built-in."""
    phrases = overridden_builtins(pipeline_file, pipeline_name, persona_names, repo)
    if not phrases:
        return None
    return f"notice: this repository replaces built-in {'; '.join(phrases)}"


def _persona_files_in_repository(name: str, repo: Path) -> list[str]:
    folder = repo / ".wave" / "personas"
    files = [folder / f"{name}{suffix}" for suffix in (".md", ".yaml")]
    return [display_path(path) for path in files if path.is_file()]
