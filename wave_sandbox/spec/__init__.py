"""Pipelines and personas: strict models, YAML loading with line numbers, validation, templating.

The runner needs only what is exported here; the modules behind it are details.
"""

from wave_sandbox.spec.loader import (
    LoadedPipeline,
    PipelineListing,
    find_pipeline_file,
    list_pipelines,
    load_pipeline,
    repository_folder,
)
from wave_sandbox.spec.models import (
    Exec,
    InjectArtifact,
    Memory,
    Metadata,
    Mount,
    OutputArtifact,
    Permissions,
    Pipeline,
    PipelineInput,
    Step,
    Workspace,
)
from wave_sandbox.spec.personas import (
    Persona,
    PersonaLimits,
    effective_tools,
    list_personas,
    load_persona,
    persona_names,
)
from wave_sandbox.spec.templating import SUPPORTED_VARIABLES, render_template

__all__ = [
    "Exec", "InjectArtifact", "LoadedPipeline", "Memory", "Metadata", "Mount", "OutputArtifact",
    "Permissions", "Persona", "PersonaLimits", "Pipeline", "PipelineInput", "PipelineListing",
    "SUPPORTED_VARIABLES", "Step", "Workspace", "effective_tools", "find_pipeline_file",
    "list_personas", "list_pipelines", "load_persona", "load_pipeline", "persona_names",
    "render_template", "repository_folder",
]
