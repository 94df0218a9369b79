"""The user prompt an agent receives: the step's rendered prompt, then where its inputs are,
exactly which files it must write and the contracts those files must pass; and the prompt of the one
retry, which adds the errors of the first attempt (Wave's retry context)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wave_sandbox.contracts import ContractCheck, describe_contract
from wave_sandbox.engine.artifacts import DeclaredArtifact

WORKSPACE = "/workspace"
ARTIFACTS_IN = "/wave/artifacts"
ATTACHMENTS_IN = "/wave/attachments"


@dataclass(frozen=True)
class InjectedArtifact:
    alias: str
    step_id: str
    artifact_name: str

    @property
    def container_path(self) -> str:
        return f"{ARTIFACTS_IN}/{self.alias}"


def build_user_prompt(
    rendered_source: str,
    injected: list[InjectedArtifact],
    outputs: list[DeclaredArtifact],
    mounts: list[tuple[str, bool]],
    contracts: Sequence[ContractCheck] = (),
    attachments: Sequence[str] = (),
) -> str:
    sections = [rendered_source.strip()]
    sections.append(_environment_section(mounts))
    if attachments:
        lines = ["## Attachments from the user (read-only: logs, metrics, traces)"]
        lines += [f"- {path}" for path in attachments]
        sections.append("\n".join(lines))
    if injected:
        lines = ["## Inputs from earlier steps (read-only files)"]
        lines += [
            f"- {item.container_path}: artifact '{item.artifact_name}' of step '{item.step_id}'"
            f" (a copy is at .agents/artifacts/{item.alias})"
            for item in injected
        ]
        sections.append("\n".join(lines))
    if outputs:
        lines = ["## Files you must write before you finish (the step fails without them)"]
        lines += [f"- {WORKSPACE}/{artifact.path}{_type_note(artifact)}" for artifact in outputs]
        sections.append("\n".join(lines))
    if contracts:
        lines = ["## Checks those files must pass when you finish (a failure is sent back to you once)"]
        lines += [describe_contract(contract) for contract in contracts]
        sections.append("\n".join(lines))
    sections.append(
        "When you are done, answer without calling a tool. The first line of that answer is the "
        "step's one-line summary."
    )
    return "\n\n".join(sections) + "\n"


def _environment_section(mounts: list[tuple[str, bool]]) -> str:
    lines = ["## Your environment", f"- Working directory: {WORKSPACE} (writable, yours alone)"]
    if not mounts:
        lines.append("- No source code is mounted in this step.")
    for target, read_only in mounts:
        mode = "read-only" if read_only else "read-write: your edits become the proposed fix"
        lines.append(f"- {target}: the repository ({mode})")
    lines.append("- No network except the model; no secrets; limited CPU, memory, processes and time.")
    return "\n".join(lines)


def _type_note(artifact: DeclaredArtifact) -> str:
    if artifact.type == "json":
        return " (valid JSON)"
    if artifact.type == "markdown":
        return " (Markdown)"
    return ""


def build_retry_prompt(first_prompt: str, errors: list[str]) -> str:
    """The first prompt plus what was wrong with the files it produced, for the one retry."""
    listed = "\n".join(f"- {error}" for error in errors)
    return (
        f"{first_prompt.rstrip()}\n\n"
        "## Your previous attempt did not pass these checks\n"
        f"{listed}\n\n"
        f"The files you wrote are still in {WORKSPACE}. Read them, fix exactly what the errors name, write "
        "them again, then answer without calling a tool (the first line of that answer is the step's "
        "summary). This is the last attempt: the step fails if a check still does not pass.\n"
    )
