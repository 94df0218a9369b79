"""The artifacts composition steps make and pass on: an iterate's collected outputs, a sub-pipeline's
artifacts adopted by its step, host-made artifacts (aggregate) written to the record and `--output`.

A mixin of `Composer`; every read goes through `read_artifact`, bounded and never following a link.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

from wave_sandbox.engine import composition_values as values
from wave_sandbox.errors import CompositionError
from wave_sandbox.spec import composition as c
from wave_sandbox.spec.models import OutputArtifact, Step


class ComposerArtifacts:
    """Needs: steps, record, output, notify, child_outputs, and `_first_failure`/`HostResult` from composer."""

    def _collect_items(self, step: Step, expansion: Any, child_states: dict, failures: dict) -> Any:
        config = c.parse_config(step, c.ITERATE)
        collected, failed = [], []
        for prefix, name in expansion.members:
            members = [child for child in expansion.children if child.startswith(prefix + ".")]
            failure = self._failure_among(members, child_states, failures, self.steps)
            if failure:
                failed.append(f"item {prefix.rsplit('.', 1)[-1]} ({name}): {failure}")
            collected.append(self._primary_output(members))
        if failed and config.on_failure != "continue":
            return self._result(False, f"{failed[0]}" + (f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""))
        content = json.dumps(collected, indent=2, ensure_ascii=False).encode("utf-8")
        shown = self._keep_artifact(step, "collected-output", f"{step.id}-collected.json", content)
        total = len(expansion.members)
        message = f"all {total} items completed" if not failed else \
            f"{total - len(failed)}/{total} items completed; {len(failed)} failed and on_failure is continue"
        return self._result(message=message, artifacts=shown)

    def _primary_output(self, member_steps: list[str]) -> Any:
        """Wave's collectIterateOutputs: the child's last step's first artifact, JSON when it parses."""
        for step_id in reversed(member_steps):
            for artifact in self.steps[step_id].output_artifacts:
                content = self.read_artifact(step_id, artifact.name)
                if content is not None:
                    try:
                        return values.load_json(content)
                    except CompositionError:
                        return content.decode("utf-8", errors="replace")
        return None

    def _adopt_child_artifacts(self, step: Step, children: list[str], prefix: str) -> list[str]:
        """The child run's artifacts become the step's own, so the parent's next step can inject them.

        Its `pipeline_outputs` come first (Wave: a sub-pipeline step's outputs), so `{{ STEP.output }}`
        is the child's first declared output; of two artifacts with one name, the first adopted stays."""
        adopted: set[str] = set()
        for child_id, artifact in self._child_artifacts_in_order(children, prefix):
            content = self.read_artifact(child_id, artifact.name)
            if content is None or not artifact.path or artifact.name in adopted:
                continue
            adopted.add(artifact.name)
            self._declare(step, artifact.name, PurePosixPath(artifact.path).name, artifact.type)
            folder = self.record.artifacts_folder(step.id)
            (folder / PurePosixPath(artifact.path).name).write_bytes(content)
        return []

    def _child_artifacts_in_order(self, children: list[str], prefix: str) -> list[tuple[str, OutputArtifact]]:
        every = [(child_id, artifact) for child_id in children for artifact in self.steps[child_id].output_artifacts]
        wanted = [(f"{prefix}.{output.get('step')}", output.get("artifact"))
                  for output in (self.child_outputs.get(prefix) or {}).values() if isinstance(output, dict)]
        first = [pair for key in wanted for pair in every if (pair[0], pair[1].name) == key]
        return first + [pair for pair in every if pair not in first]

    def artifact_names(self, step_id: str) -> list[str] | None:
        step = self.steps.get(step_id)
        return [artifact.name for artifact in step.output_artifacts] if step is not None else None

    def read_artifact(self, step_id: str, name: str | None) -> bytes | None:
        step = self.steps.get(step_id)
        if step is None:
            return None
        folder = self.record.folder / "steps" / step_id / "artifacts"
        for artifact in step.output_artifacts:
            if (name is None or artifact.name == name) and artifact.path:
                path = folder / PurePosixPath(artifact.path).name
                if path.is_file() and not path.is_symlink() and path.stat().st_size <= values.MAX_VALUE_BYTES:
                    return path.read_bytes()
        return None

    def _keep_artifact(self, step: Step, name: str, file_name: str, content: bytes) -> list[str]:
        """Write a host-made artifact to the record and --output, and declare it on the step."""
        from wave_sandbox.engine.artifacts import write_private_file

        write_private_file(self.record.artifacts_folder(step.id), file_name, content)
        self._declare(step, name, file_name, "json")
        shown, refusal = self.output.deliver(file_name, content)
        if refusal:
            self.notify(f"warning: {refusal}")
        return [shown] if shown else []

    def _declare(self, step: Step, name: str, file_name: str, kind: str | None) -> None:
        kept = [artifact for artifact in step.output_artifacts if artifact.name != name]
        step.output_artifacts = kept + [OutputArtifact(name=name, path=f"output/{file_name}", type=kind)]
