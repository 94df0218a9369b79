"""Find a pipeline by name or path, load it, and check everything `validate` promises.

Lookup of a name (DESIGN.md): `<repo>/.wave/pipelines/NAME.yaml`, `<repo>/.agents/pipelines/NAME.yaml`,
then the built-ins. PIPELINE is a path instead when it contains `/` or ends in `.yaml`/`.yml`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from wave_sandbox.errors import ConfigurationError, PipelineNotFoundError, SpecError
from wave_sandbox.resources import builtin_pipelines_dir
from wave_sandbox.spec.composition_checks import check_composition
from wave_sandbox.spec.ceiling_checks import Ceilings, add_step_ceiling_problems
from wave_sandbox.spec.models import Pipeline, Step
from wave_sandbox.spec.control_validation import reviewer_personas
from wave_sandbox.spec.personas import Persona, load_persona_collecting, persona_names
from wave_sandbox.spec.problems import Problem, ProblemCollector, display_path, raise_if_problems
from wave_sandbox.spec.schema_errors import add_schema_problems, follow_loc
from wave_sandbox.spec.unsupported import add_unsupported_problems
from wave_sandbox.spec.validation import IndexedStep, SemanticCheck, check_semantics
from wave_sandbox.spec.model_tiers import TierMap
from wave_sandbox.spec.wave_context import (
    WaveContext, add_persona_skill_problems, resolve_persona_placeholders,
)
from wave_sandbox.spec.wave_fields import add_wave_field_problems
from wave_sandbox.spec.wave_project import WaveProject, load_wave_project
from wave_sandbox.spec.wave_variables import RepositoryVariables, repository_variables
from wave_sandbox.spec.yaml_loader import YamlDocument, YamlSyntaxError, parse_yaml


PIPELINE_SUFFIXES = (".yaml", ".yml")
BUILTIN_ORIGIN = "built-in"


@dataclass
class PipelineListing:
    """One pipeline `list` shows: the name to type, its description, its file and where it comes from."""

    name: str
    description: str
    path: Path
    origin: str


@dataclass
class LoadedPipeline:
    """A pipeline that passed every check, with the personas its steps use."""

    pipeline: Pipeline
    path: Path
    repo: Path
    personas: dict[str, Persona] = field(default_factory=dict)
    wave: WaveProject = field(default_factory=WaveProject)
    """The repository's wave.yaml (empty without one)."""
    variables: RepositoryVariables | None = None
    """Wave's template variables known before the run: project.*, forge.*, branch_name."""
    persona_templates: dict[str, str] = field(default_factory=dict)
    """Step id -> its persona as written, when placeholders were resolved (`{{ forge.type }}-analyst`)."""

    @property
    def tiers(self) -> TierMap:
        return TierMap.of(self.wave.complexity_map, self.wave.tier_models)

    @property
    def name(self) -> str:
        return self.pipeline.metadata.name

    def prompt_template(self, step: Step) -> str:
        """The step's prompt before templating: `exec.source`, or the file `exec.source_path`."""
        assert step.exec is not None  # validation requires a prompt on every step
        if step.exec.source is not None:
            return step.exec.source
        assert step.exec.source_path is not None
        return (self.repo / step.exec.source_path).read_text(encoding="utf-8")


def pipeline_search_dirs(repo: Path) -> list[tuple[str, Path]]:
    """Where names are looked up, first match wins: (origin shown by `list`, folder)."""
    return [
        (".wave/pipelines", repo / ".wave" / "pipelines"),
        (".agents/pipelines", repo / ".agents" / "pipelines"),
        (BUILTIN_ORIGIN, builtin_pipelines_dir()),
    ]


def looks_like_path(name_or_path: str) -> bool:
    return "/" in name_or_path or name_or_path.endswith(PIPELINE_SUFFIXES)


def find_pipeline_file(name_or_path: str, repo: Path) -> Path:
    """The file of a pipeline named or given by path (a path is relative to the cwd)."""
    if looks_like_path(name_or_path):
        path = Path(name_or_path).expanduser()
        if not path.is_file():
            raise PipelineNotFoundError(f"no pipeline file at {name_or_path}; check the path")
        return path
    for _, folder in pipeline_search_dirs(repo):
        for suffix in PIPELINE_SUFFIXES:
            candidate = folder / f"{name_or_path}{suffix}"
            if candidate.is_file():
                return candidate
    available = ", ".join(sorted({listing.name for listing in list_pipelines(repo)}))
    raise PipelineNotFoundError(
        f"no pipeline named '{name_or_path}' in {repo}/.wave/pipelines, {repo}/.agents/pipelines "
        f"or the built-ins (available: {available}); run `wave-sandbox list`"
    )


def list_pipelines(repo: Path) -> list[PipelineListing]:
    """Every pipeline a name can reach from `repo`; a name found earlier hides later files."""
    listings: dict[str, PipelineListing] = {}
    for origin, folder in pipeline_search_dirs(repo):
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            if path.suffix in PIPELINE_SUFFIXES and path.is_file() and path.stem not in listings:
                listings[path.stem] = PipelineListing(path.stem, read_description(path), path, origin)
    return list(listings.values())


def read_description(path: Path) -> str:
    """metadata.description, read without a full check (list must not fail on one bad file)."""
    try:
        data = parse_yaml(path.read_text(encoding="utf-8")).data
    except YamlSyntaxError as error:
        return f"(cannot be read: {display_path(path)}:{error.line}: {error.message})"
    except (OSError, UnicodeDecodeError):
        return "(cannot be read; run `wave-sandbox validate` on it)"
    metadata = data.get("metadata") if isinstance(data, dict) else None
    description = metadata.get("description") if isinstance(metadata, dict) else None
    return description if isinstance(description, str) else ""


def repository_folder(repo: Path | None) -> Path:
    """The `--repo` folder (default: the cwd), made absolute; ConfigurationError when it is missing."""
    folder = Path.cwd() if repo is None else repo.expanduser()
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise ConfigurationError(f"repository folder {folder} {problem}; pass an existing folder with --repo")
    return folder.absolute()


def load_pipeline(path: Path, repo: Path, ceilings: Ceilings) -> LoadedPipeline:
    """Parse and check the pipeline at `path` for `repo`, within the operator's ceilings (the active
    policy: `settings.load_ceilings()`); SpecError carries every problem."""
    repo = repository_folder(repo)
    document = _parse_pipeline_file(path)
    collector = ProblemCollector(display_path(path), document)
    pipeline = _check_schema(document, collector)
    persona_problems: list[Problem] = []
    wave = load_wave_project(repo, persona_problems)
    context = WaveContext(wave, repository_variables(repo, wave))
    personas = _check_steps(
        document, collector, repo, pipeline, persona_problems, path.parent.absolute(), ceilings, context
    )
    raise_if_problems(collector.problems + persona_problems)
    assert pipeline is not None
    return LoadedPipeline(
        pipeline=pipeline, path=path, repo=repo, personas=personas, wave=wave, variables=context.variables,
        persona_templates=context.persona_templates,
    )


def _parse_pipeline_file(path: Path) -> YamlDocument:
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise PipelineNotFoundError(f"no pipeline file at {shown}; check the path") from error
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError([f"{shown}:1: cannot read the pipeline: {error}"]) from error
    try:
        document = parse_yaml(text)
    except YamlSyntaxError as error:
        raise SpecError([f"{shown}:{error.line}: {error.message}"]) from error
    if not isinstance(document.data, dict):
        raise SpecError([f"{shown}:1: a pipeline should be a mapping with kind, metadata and steps"])
    return document


def _check_schema(document: YamlDocument, collector: ProblemCollector) -> Pipeline | None:
    for key_path, _ in document.duplicate_keys:
        collector.add(key_path, f"duplicate key '{key_path[-1]}'", where_path=key_path[:-1])
    try:
        return Pipeline.model_validate(document.data)
    except ValidationError as error:
        add_schema_problems(error, document.data, collector, Pipeline)
        return None


def _check_steps(
    document: YamlDocument, collector: ProblemCollector, repo: Path, pipeline: Pipeline | None,
    persona_problems: list[Problem], pipeline_folder: Path, ceilings: Ceilings, context: WaveContext,
) -> dict[str, Persona]:
    refused = add_unsupported_problems(document.data, collector)
    steps = _parsed_steps(document.data, pipeline)
    names = persona_names(repo)
    templates = resolve_persona_placeholders(steps, context)
    check = SemanticCheck(
        collector, repo, steps, _raw_step_ids(document.data), names, refused, pipeline_folder, templates
    )
    check_semantics(check, document.data)
    check_composition(check, document.data)
    add_wave_field_problems(document.data, collector, repo, context.variables.render)
    add_step_ceiling_problems(steps, collector, ceilings, context.tiers)
    personas = _load_step_personas(steps, names, repo, persona_problems, ceilings)
    add_persona_skill_problems(personas, context.wave, repo, persona_problems)
    return personas


def _parsed_steps(data: dict[str, Any], pipeline: Pipeline | None) -> list[IndexedStep]:
    """Every step that parsed: all of them when the pipeline did, else each step that parses
    once its malformed fields are dropped (those were reported already), so the semantic checks
    still see as much of the pipeline as possible."""
    if pipeline is not None:
        return [IndexedStep(index, step) for index, step in enumerate(pipeline.steps)]
    raw_steps = data.get("steps") if isinstance(data.get("steps"), list) else []
    parsed = []
    for index, raw_step in enumerate(raw_steps):
        step = salvage_step(raw_step)
        if step is not None:
            dropped = {str(key) for key in raw_step} - step.model_fields_set
            parsed.append(IndexedStep(index, step, frozenset(dropped)))
    return parsed


def salvage_step(raw_step: Any, attempts: int = 4) -> Step | None:
    """The step parsed without the fields pydantic rejects (None when that is not enough)."""
    candidate = copy.deepcopy(raw_step)
    for _ in range(attempts):
        try:
            return Step.model_validate(candidate)
        except ValidationError as error:
            if not _drop_rejected_fields(candidate, error):
                return None
    return None


def _drop_rejected_fields(candidate: Any, error: ValidationError) -> bool:
    """Delete each rejected key from `candidate`; False when there was nothing left to delete."""
    dropped = False
    for detail in error.errors():
        path, _ = follow_loc(detail["loc"], candidate)
        if detail["type"] == "missing" or not path or not isinstance(path[-1], str):
            continue
        parent = candidate
        for part in path[:-1]:
            parent = parent[part]
        if isinstance(parent, dict) and path[-1] in parent:
            del parent[path[-1]]
            dropped = True
    return dropped


def _raw_step_ids(data: dict[str, Any]) -> list[str]:
    raw_steps = data.get("steps") if isinstance(data.get("steps"), list) else []
    return [step["id"] for step in raw_steps if isinstance(step, dict) and isinstance(step.get("id"), str)]


def _load_step_personas(
    steps: list[IndexedStep], names: list[str], repo: Path, problems: list[Problem], ceilings: Ceilings
) -> dict[str, Persona]:
    personas: dict[str, Persona] = {}
    attempted: set[str] = set()
    wanted = [name for indexed in steps for name in (indexed.step.persona, *reviewer_personas(indexed.step))]
    for name in wanted:
        if name is not None and name in names and name not in attempted:
            attempted.add(name)
            persona = load_persona_collecting(name, repo, problems, ceilings)
            if persona is not None:
                personas[name] = persona
    return personas
