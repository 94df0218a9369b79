"""`wave-sandbox list`: the pipelines and personas available in a repository, with descriptions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wave_sandbox.errors import SpecError
from wave_sandbox.resources import builtin_pipelines_dir
from wave_sandbox.spec.loader import BUILTIN_ORIGIN, PipelineListing, list_pipelines
from wave_sandbox.workspace.repository_root import repository_root
from wave_sandbox.settings import load_ceilings
from wave_sandbox.spec.personas import load_persona, persona_names
from wave_sandbox.text_safety import printable_inline

RepoOption = Annotated[
    Path | None,
    typer.Option("--repo", help="The repository to look in (default: the current folder).",
                 show_default=False),
]


JsonOption = Annotated[bool, typer.Option("--json", help="One JSON document instead of the tables.")]


def list_command(repo: RepoOption = None, as_json: JsonOption = False) -> None:
    """Show the pipelines and personas available here, with descriptions and where they come from."""
    repo_folder = repository_root(repo)
    if as_json:
        from wave_sandbox.cli.json_output import print_json

        pipelines = [dict(zip(("name", "description", "origin"), pipeline_row(listing)), path=str(listing.path))
                     for listing in list_pipelines(repo_folder)]
        personas = [dict(zip(("name", "description", "origin"), persona_row(name, repo_folder)))
                    for name in persona_names(repo_folder)]
        for row in [*pipelines, *personas]:
            row["origin"] = row["origin"].strip("[]")
        print_json({"pipelines": pipelines, "personas": personas})
        return
    typer.echo('Pipelines (wave-sandbox run NAME "INPUT"):')
    typer.echo(format_table([pipeline_row(listing) for listing in list_pipelines(repo_folder)]))
    typer.echo("")
    typer.echo("Personas:")
    typer.echo(format_table([persona_row(name, repo_folder) for name in persona_names(repo_folder)]))


def pipeline_row(listing: PipelineListing) -> tuple[str, str, str]:
    origin = listing.origin
    if origin != BUILTIN_ORIGIN:
        origin = f"{origin}/{listing.path.name}"
        if any((builtin_pipelines_dir() / f"{listing.name}{suffix}").is_file() for suffix in (".yaml", ".yml")):
            origin += ", hides the built-in"
    return listing.name, listing.description, f"[{origin}]"


def persona_row(name: str, repo: Path) -> tuple[str, str, str]:
    try:
        persona = load_persona(name, repo, load_ceilings())
    except SpecError as error:
        return name, f"(broken: {error.problems[0]})", "[repository]"
    return name, persona.description, f"[{persona.origin}]"


def format_table(rows: list[tuple[str, str, str]]) -> str:
    """Rows as aligned columns, two spaces in; `(none)` when there are no rows."""
    if not rows:
        return "  (none)"
    rows = [tuple(printable_inline(str(cell)) for cell in row) for row in rows]
    name_width = max(len(row[0]) for row in rows)
    description_width = max(len(row[1]) for row in rows)
    return "\n".join(
        f"  {name:<{name_width}}  {description:<{description_width}}  {origin}".rstrip()
        for name, description, origin in rows
    )
