"""Decide everything about a step before its container exists: prompt, tools, mounts, limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wave_sandbox.contracts import JSON_SCHEMA, ContractCheck, SectionRequirement
from wave_sandbox.bind_mount import BindMount, MountRole
from wave_sandbox.engine.artifacts import DeclaredArtifact
from wave_sandbox.engine.clone_watchdog import CloneCeiling
from wave_sandbox.engine.contract_defaults import contract_on_failure, contract_settings, contract_source
from wave_sandbox.engine.records import RunRecord
from wave_sandbox.engine.context_windows import context_window_for
from wave_sandbox.engine.step_description import StepDescription
from wave_sandbox.engine.step_execution import StepJob
from wave_sandbox.engine.step_prompt import ATTACHMENTS_IN, InjectedArtifact, build_user_prompt
from wave_sandbox.spec.contract_validation import load_json_schema
from wave_sandbox.spec.loader import LoadedPipeline
from wave_sandbox.spec.models import Contract, Step
from wave_sandbox.spec.personas import Persona, effective_tools
from wave_sandbox.spec.templating import render_template
from wave_sandbox.engine.wave_step import (
    skill_mounts, step_model, step_skills, system_prompt, wave_variables, with_thread_context,
)
from wave_sandbox.workspace.clone import Clone
from wave_sandbox.engine.command_step import COMMAND_PERSONA, command_script
from wave_sandbox.engine.wave_locations import dependency_variables, wave_artifact_files
from wave_sandbox.workspace.mounts import plan_step_mounts
from wave_sandbox.workspace.subset_mount import subset_bind_mount


@dataclass(frozen=True)
class RunSettings:
    """Run-wide inputs to every step's job."""

    run_id: str
    input_text: str
    default_model: str
    model_overrides_persona: bool
    step_timeout_s: int
    attachments: tuple[Path, ...] = ()
    clone_ceiling_mb: int | None = None
    mock: bool = False
    """`--model mock`: contracts carry the mock flag (model-judged ones pass as mock)."""


def attachment_mounts(attachments: tuple[Path, ...]) -> list[BindMount]:
    """`--attach` files and folders, read-only at /wave/attachments/<name>."""
    return [BindMount(path, f"{ATTACHMENTS_IN}/{path.name}", True, MountRole.ATTACHMENT) for path in attachments]


def declared_outputs(step: Step) -> list[DeclaredArtifact]:
    return [DeclaredArtifact(a.name, a.path, a.type) for a in step.output_artifacts]


def step_contracts(loaded: LoadedPipeline, step: Step, mock: bool = False) -> list[ContractCheck]:
    """The step's handover contracts, their schemas read (SchemaFileError if one vanished since loading)."""
    contracts = step.handover.effective_contracts() if step.handover else []
    return [_contract_check(loaded, step, contract, mock) for contract in contracts]


TEMPLATED_SETTINGS = ("command", "dir")
"""Contract settings Wave resolves its template variables in (`{{ project.contract_test_command }}`)."""


def rendered_settings(loaded: LoadedPipeline, settings: tuple) -> tuple:
    """The contract's settings with Wave's variables (project.*, forge.*) resolved in its command and dir."""
    render = loaded.variables.render if loaded.variables else None
    if render is None:
        return settings
    return tuple((name, render(value) if name in TEMPLATED_SETTINGS and isinstance(value, str) else value)
                 for name, value in settings)


def _contract_check(loaded: LoadedPipeline, step: Step, contract: Contract, mock: bool = False) -> ContractCheck:
    schema = None
    if contract.type == JSON_SCHEMA or (contract.type == "markdown_spec" and contract.schema_path):
        schema = load_json_schema(contract.schema_path, loaded.path.parent.absolute(), loaded.repo)
    return ContractCheck(
        type=contract.type,
        source=contract_source(step, contract),
        must_pass=contract.must_pass is not False,
        on_failure=contract_on_failure(step, contract),
        schema=schema,
        schema_name=contract.schema_path or "",
        sections=tuple(SectionRequirement(s.keywords, s.mention_alternatives, s.check) for s in contract.sections),
        blameless=contract.blameless,
        rework_step=contract.rework_step or (step.retry.rework_step if step.retry else None),
        rework_rounds=max(1, min(contract.max_retries or 1, 5)),
        settings=rendered_settings(loaded, contract_settings(contract)),
        mock=mock,
    )


def template_variables(loaded: LoadedPipeline, step_id: str, settings: RunSettings) -> dict[str, str]:
    return {
        **wave_variables(loaded, loaded.pipeline.step(step_id)),
        "input": settings.input_text,
        "pipeline_id": settings.run_id,
        "pipeline_name": loaded.name,
        "step_id": step_id,
        "run.id": settings.run_id,
    }


def step_timeout(step: Step, settings: RunSettings) -> int:
    if step.timeout_minutes:
        return int(step.timeout_minutes * 60)
    return settings.step_timeout_s


def build_step_job(
    loaded: LoadedPipeline,
    step_id: str,
    persona: Persona,
    settings: RunSettings,
    record: RunRecord,
    clone: Clone | None,
) -> StepJob:
    step = next(s for s in loaded.pipeline.steps if s.id == step_id)
    if step.is_command:
        return build_command_job(loaded, step, settings, record, clone)
    injected = [
        (InjectedArtifact(i.as_, i.step, i.artifact), _recorded_artifact(record, loaded, i.step, i.artifact))
        for i in step.memory.inject_artifacts
    ]
    outputs = declared_outputs(step)
    contracts = step_contracts(loaded, step)
    skills = step_skills(loaded, step, persona)
    warnings: list[str] = []
    mounts, masked, redacted = _step_mounts(loaded, step, settings, record, clone, warnings, skill_mounts(skills))
    rendered = render_template(loaded.prompt_template(step), template_variables(loaded, step_id, settings))
    rendered = with_thread_context(loaded, step, rendered, record.step_folder)
    shown_mounts = [(m.target, m.read_only) for m in mounts if m.role is MountRole.DECLARED]
    attached = [m.target for m in mounts if m.role is MountRole.ATTACHMENT]
    prompt = build_user_prompt(
        rendered, [item for item, _ in injected], outputs, shown_mounts, contracts, attached
    )
    timeout_s = step_timeout(step, settings)
    model = step_model(step, persona, loaded, settings.default_model, settings.model_overrides_persona)
    description = StepDescription(
        step_id=step_id,
        persona=persona.name,
        model=model,
        system=system_prompt(persona, skills, step),
        prompt=prompt,
        tools=tuple(effective_tools(persona, step)),
        max_tokens=persona.max_tokens,
        max_turns=persona.max_turns,
        timeout_s=timeout_s,
        context_window=context_window_for(model, persona.context_window),
        temperature=persona.temperature,
    )
    return StepJob(
        step_id=step_id,
        persona=persona.name,
        step_description=description,
        timeout_s=timeout_s,
        mounts=mounts,
        masked_paths=masked,
        redacted_files=redacted,
        injected=injected,
        outputs=outputs,
        limits=persona.limits,
        contracts=contracts,
        clone_ceiling=_clone_ceiling(clone, mounts, _held_under(persona.limits.clone_mb, settings.clone_ceiling_mb)),
        workspace_files=_wave_files(loaded, step, record, injected),
        warnings=warnings,
    )


def _step_mounts(
    loaded: LoadedPipeline, step: Step, settings: RunSettings, record: RunRecord, clone: Clone | None,
    warnings: list[str], extra: list | None = None,
):
    """Bind mounts (a worktree's clone included; subset_from copies materialised), masks and redacted files;
    refused subset entries are added to `warnings`."""
    declared = [
        subset_bind_mount(mount, loaded.repo, record.folder, step.id, position, _subset_list_reader(loaded, record),
                          warnings)
        if mount.subset_from else mount.to_bind_mount(loaded.repo)
        for position, mount in enumerate(step.container_mounts)
    ]
    # attachments go to every step that looks at the repository (skills alone do not count); an attached
    # folder is masked as a mounted repository is (secret-looking files, sockets and FIFOs in it)
    attached = attachment_mounts(settings.attachments) if declared else []
    folders = [mount for mount in attached if mount.source.is_dir()]
    mounts, masked, redacted = plan_step_mounts(declared + list(extra or []) + folders, loaded.repo, clone)
    return mounts + [mount for mount in attached if mount not in folders], masked, redacted


def _subset_list_reader(loaded: LoadedPipeline, record: RunRecord):
    def read(step_id: str, artifact_name: str) -> Path | None:
        producer = next((step for step in loaded.pipeline.steps if step.id == step_id), None)
        if producer is None:  # a step of a pipeline that calls this one, in Wave
            return None
        declared = next((a for a in declared_outputs(producer) if a.name == artifact_name), None)
        return record.artifacts_folder(step_id) / declared.file_name if declared else None
    return read


def _wave_files(loaded: LoadedPipeline, step: Step, record: RunRecord, injected) -> dict[str, Path]:
    return wave_artifact_files(loaded.pipeline, step, record, [(item.alias, host) for item, host in injected])


def build_command_job(
    loaded: LoadedPipeline, step: Step, settings: RunSettings, record: RunRecord, clone: Clone | None
) -> StepJob:
    """A Wave command step: its script, mounts, artifacts and contracts; no prompt, no model."""
    injected = [
        (InjectedArtifact(i.as_, i.step, i.artifact), _recorded_artifact(record, loaded, i.step, i.artifact))
        for i in step.memory.inject_artifacts
    ]
    warnings: list[str] = []
    mounts, masked, redacted = _step_mounts(loaded, step, settings, record, clone, warnings)
    script = render_template(command_script(step), template_variables(loaded, step.id, settings))
    timeout_s = step_timeout(step, settings)
    description = StepDescription(
        step_id=step.id, persona=COMMAND_PERSONA.name, model="none", system="", prompt=script, tools=(),
        max_tokens=1, max_turns=1, timeout_s=timeout_s,
    )
    return StepJob(
        step_id=step.id, persona=COMMAND_PERSONA.name, step_description=description, timeout_s=timeout_s,
        mounts=mounts, masked_paths=masked, redacted_files=redacted, injected=injected,
        outputs=declared_outputs(step), limits=COMMAND_PERSONA.limits, contracts=step_contracts(loaded, step, settings.mock),
        clone_ceiling=_clone_ceiling(clone, mounts, _held_under(COMMAND_PERSONA.limits.clone_mb, settings.clone_ceiling_mb)),
        workspace_files=_wave_files(loaded, step, record, injected),
        command_argv=command_argv(step, script),
        command_environment=dependency_variables(loaded.pipeline, step, record),
        warnings=warnings,
    )


def command_argv(step: Step, script: str) -> list[str]:
    """`bash -c SCRIPT`, in the folder of the step's `./` mount when it writes no artifact, else in /workspace.

    Wave runs a command step in its project mount (`resolveCommandWorkDir`), where a script's relative
    paths (`test -f wave.yaml`) find the project. A step that declares artifacts runs in /workspace, where
    it can write them: a read-only mount cannot take them, and they are collected from there.
    """
    mounts = step.workspace.mount if step.workspace else []
    project = next((mount.target for mount in mounts
                    if mount.source.rstrip("/") in ("", ".") and mount.target.strip("/")), None)
    if project is None or declared_outputs(step):
        return ["bash", "-c", script]
    return ["env", "-C", project, "bash", "-c", script]


def _held_under(value: int, ceiling: int | None) -> int:
    return value if ceiling is None else min(value, ceiling)


def _clone_ceiling(clone: Clone | None, mounts: list[BindMount], ceiling_mb: int) -> CloneCeiling | None:
    """A step that writes to the clone gets its disk ceiling watched; others leave the clone alone."""
    writes_to_clone = any(not mount.read_only for mount in mounts)
    return CloneCeiling(clone.path, ceiling_mb) if clone is not None and writes_to_clone else None


def _recorded_artifact(record: RunRecord, loaded: LoadedPipeline, step_id: str, artifact_name: str) -> Path:
    producer = next(s for s in loaded.pipeline.steps if s.id == step_id)
    declared = next(a for a in declared_outputs(producer) if a.name == artifact_name)
    return record.artifacts_folder(step_id) / declared.file_name
