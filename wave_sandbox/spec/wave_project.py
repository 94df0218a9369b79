"""A Wave project's `wave.yaml` (Wave's `manifest.Manifest`), read for what a run under wave-sandbox uses.

Read: `metadata.forge` (the forge override), `project` (the `{{ project.* }}` variables), `personas`
(the persona definitions, checked strictly: see `wave_personas`), `adapters.claude.tier_models` and
`runtime.routing.complexity_map` (model tiers), `runtime.sandbox.env_passthrough` and `skills`. Everything
else in the manifest (adapters' binaries, server, runtime timeouts, hooks...) is Wave's own operation
and changes nothing here; it is accepted as it is, since a strict check would refuse every real project.
The file is untrusted: it passes through our YAML loader (budgets, line numbers) like every other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wave_sandbox.spec.problems import Problem, display_path
from wave_sandbox.spec.yaml_loader import YamlDocument, YamlSyntaxError, parse_yaml

MANIFEST_FILE = "wave.yaml"
PROJECT_SCALARS = (
    "language", "flavour", "test_command", "lint_command", "build_command", "format_command", "source_glob", "skill",
)
SERVICE_SCALARS = ("path", "language", "build_command", "test_command")


@dataclass
class WaveProject:
    """What wave-sandbox takes from a repository's wave.yaml (empty when the repository has none)."""

    path: Path | None = None
    document: YamlDocument | None = None
    personas: dict[str, Any] = field(default_factory=dict)
    """Persona name -> its raw definition (a mapping when well-formed)."""
    project_variables: dict[str, str] = field(default_factory=dict)
    """`project.test_command` -> `go test ./...`, as Wave's Project.ProjectVars builds them."""
    forge_override: str = ""
    complexity_map: dict[str, str] = field(default_factory=dict)
    tier_models: dict[str, str] = field(default_factory=dict)
    env_passthrough: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)

    @property
    def exists(self) -> bool:
        return self.path is not None

    def line_of(self, *path: str | int) -> int:
        return self.document.line_of(tuple(path)) if self.document else 1

    def shown(self) -> str:
        return display_path(self.path) if self.path else MANIFEST_FILE


def load_wave_project(repo: Path, problems: list[Problem]) -> WaveProject:
    """The repository's wave.yaml, or an empty project; problems in it are appended to `problems`."""
    path = repo / MANIFEST_FILE
    if not path.is_file():
        return WaveProject()
    shown = display_path(path)
    if not path.resolve().is_relative_to(repo.resolve()):
        problems.append(Problem(shown, 1, "wave.yaml resolves outside the repository; copy it in instead of linking"))
        return WaveProject()
    try:
        document = parse_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(shown, 1, f"cannot read wave.yaml: {error}"))
        return WaveProject()
    except YamlSyntaxError as error:
        problems.append(Problem(shown, error.line, error.message))
        return WaveProject()
    if not isinstance(document.data, dict):
        problems.append(Problem(shown, 1, "wave.yaml should be a mapping (Wave's manifest)"))
        return WaveProject()
    return _project_from(path, document)


def _project_from(path: Path, document: YamlDocument) -> WaveProject:
    data = document.data
    runtime = _mapping(data.get("runtime"))
    claude = _mapping(_mapping(data.get("adapters")).get("claude"))
    return WaveProject(
        path=path,
        document=document,
        personas=_mapping(data.get("personas")),
        project_variables=project_variables(_mapping(data.get("project"))),
        forge_override=_text(_mapping(data.get("metadata")).get("forge")),
        complexity_map=_text_map(_mapping(runtime.get("routing")).get("complexity_map")),
        tier_models=_text_map(claude.get("tier_models")),
        env_passthrough=_texts(_mapping(runtime.get("sandbox")).get("env_passthrough")),
        skills=_texts(data.get("skills")),
    )


def project_variables(project: dict[str, Any]) -> dict[str, str]:
    """Wave's Project.ProjectVars: each set field as `project.<field>`; contract_test_command falls back to test_command."""
    variables = {f"project.{name}": _text(project.get(name)) for name in PROJECT_SCALARS if _text(project.get(name))}
    contract = _text(project.get("contract_test_command")) or _text(project.get("test_command"))
    if contract:
        variables["project.contract_test_command"] = contract
    for service, config in _mapping(project.get("services")).items():
        config = _mapping(config)
        prefix = f"project.services.{service}."
        variables.update({prefix + name: _text(config.get(name)) for name in SERVICE_SCALARS if _text(config.get(name))})
        service_contract = _text(config.get("contract_test_command")) or _text(config.get("test_command"))
        if service_contract:
            variables[prefix + "contract_test_command"] = service_contract
    return variables


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _texts(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _text_map(value: Any) -> dict[str, str]:
    return {str(key): item for key, item in _mapping(value).items() if isinstance(item, str)}


def wave_persona_names(repo: Path) -> set[str]:
    """The persona names wave.yaml defines (none without a readable wave.yaml)."""
    return {name for name in load_wave_project(repo, []).personas if isinstance(name, str)}
