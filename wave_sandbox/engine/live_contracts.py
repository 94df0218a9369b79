"""The contract-checking entry point of a running step: each contract type checked where it must be.

| type | where |
|---|---|
| json_schema, non_empty_file, markdown_sections | the host, on the artifact's bytes (`contracts.checks`) |
| test_suite | a checker container: no network, no token, read-only mounts (`checker_container`) |
| agent_review | a reviewer persona in its own container, read-only mounts and the diff (`agent_review`) |
| llm_judge | one tool-less model call by the host gateway, in the run's budget (`llm_judge`) |
| event_contains | the run's own events (`events.jsonl` of the record) |
| source_diff, test_diff, test_count_baseline | the host, on the clone read as data (`workspace.tree_changes`) |

With `mock` (set for `--model mock`), contracts that ask a model (llm_judge, agent_review) pass without
a call, and their result says `mock`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from wave_sandbox.contracts import check_contract
from wave_sandbox.contracts.git_checks import (
    count_declarations, is_test_file, net_deletion_problem, source_diff_problems, declaration_pattern,
)
from wave_sandbox.contracts.model import ContractCheck
from wave_sandbox.engine.agent_review import check_agent_review
from wave_sandbox.engine.checker_container import check_test_suite
from wave_sandbox.engine.contract_assessment import ContractVerdict
from wave_sandbox.engine.llm_judge import check_llm_judge
from wave_sandbox.errors import WaveSandboxError
from wave_sandbox.workspace.tree_changes import blob_content, commit_of, tree_files, working_tree_changes

if TYPE_CHECKING:
    from wave_sandbox.engine.runner import PipelineRun
    from wave_sandbox.engine.step_execution import StepContext, StepJob

MODEL_CONTRACTS = frozenset({"llm_judge", "agent_review"})
GIT_CONTRACTS = frozenset({"source_diff", "test_diff", "test_count_baseline"})
MAX_EVENTS_READ = 5000


class LiveContracts:
    """Checks one contract of one step's attempt; `mock` makes model-asking contracts pass, marked."""

    def __init__(self, run: PipelineRun, context: StepContext, job: StepJob, mock: bool | None = None) -> None:
        self.run, self.context, self.job = run, context, job
        description = str(getattr(run.infrastructure, "model_description", "") or "")
        self.mock = description.split(":")[0] == "mock" if mock is None else mock
        self._checks = 0
        branch = getattr(run.infrastructure, "run_branch", None)
        self.base_tip = branch.tip if branch is not None else None
        """The run branch's tip before the step: what it changed is measured from here, also after a rework commit."""

    def __call__(self, contract: ContractCheck, content: bytes | None) -> ContractVerdict:
        self._checks += 1
        if contract.type in MODEL_CONTRACTS and self.mock:
            return ContractVerdict([], mock=True, note="passed without a model call (--model mock)")
        try:
            return self._check(contract, content)
        except (WaveSandboxError, ValueError, OSError) as error:
            return ContractVerdict([f"{contract.type} could not be checked: {error}"])

    def _check(self, contract: ContractCheck, content: bytes | None) -> ContractVerdict:
        kind = contract.type
        if kind == "test_suite":
            errors, note = check_test_suite(self.context, self.job, contract, self._checks)
            return ContractVerdict(errors, note=note)
        if kind == "llm_judge":
            errors, note = check_llm_judge(self.context, self.job, contract, content or b"")
            return ContractVerdict(errors, note=note)
        if kind == "agent_review":
            errors, note = check_agent_review(self.run, self.context, self.job, contract, content, self.base_tip)
            return ContractVerdict(errors, note=note)
        if kind == "event_contains":
            return ContractVerdict(self._event_problems(contract))
        if kind in GIT_CONTRACTS:
            return ContractVerdict(self._git_problems(contract))
        return ContractVerdict(check_contract(contract, content or b""))

    # ----- event_contains ----------------------------------------------------------------
    def _event_problems(self, contract: ContractCheck) -> list[str]:
        wanted = [p for p in contract.setting("events") or [] if isinstance(p, dict)]
        events = self._own_events()
        missing = [_describe(p) for p in wanted if not any(_matches(p, event) for event in events)]
        return [f"missing {len(missing)} expected event(s): {', '.join(missing)}"] if missing else []

    def _own_events(self) -> list[dict]:
        path = self.run.record.folder / "events.jsonl"
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[-MAX_EVENTS_READ:] if path.exists() else []
        events = [json.loads(line) for line in lines if line.strip()]
        return [event for event in events if event.get("step_id") == self.job.step_id]

    # ----- git-based ---------------------------------------------------------------------
    def _git_problems(self, contract: ContractCheck) -> list[str]:
        infrastructure = self.run.infrastructure
        clone = infrastructure.clone
        if clone is None or self.base_tip is None:
            return [f"{contract.type} needs a step with a read-write mount (it checks what the step changed)"]
        changes = working_tree_changes(clone.path, self.base_tip)
        if contract.type == "source_diff":
            paths = [change.path for change in changes]
            return source_diff_problems(paths, contract.setting("glob"), contract.setting("exclude"),
                                        contract.setting("min_files"))
        pattern = declaration_pattern(contract.setting("test_func_pattern"))
        files = contract.setting("test_file_pattern")
        tests = [change for change in changes if is_test_file(change.path, files)]
        before = sum(count_declarations(change.before, pattern) for change in tests)
        after = sum(count_declarations(change.after, pattern) for change in tests)
        allowed = contract.setting("max_test_deletions")
        base_ref = contract.setting("base_ref")
        if contract.type == "test_diff" or not base_ref or base_ref == "HEAD~1":
            return net_deletion_problem(contract.type, before, after, allowed, "the tree before the step")
        return self._baseline_problems(clone.path, self.base_tip, str(base_ref), pattern, files, after - before, allowed)

    def _baseline_problems(self, clone, tip, base_ref, pattern, files, change_delta, allowed) -> list[str]:
        base = commit_of(clone, base_ref)
        if base is None:
            return []  # Wave passes when the baseline cannot be read
        base_count = self._count_at(clone, base, pattern, files)
        result_count = self._count_at(clone, tip, pattern, files) + change_delta
        return net_deletion_problem("test_count_baseline", base_count, result_count, allowed, base_ref)

    @staticmethod
    def _count_at(clone, commit: str, pattern, files) -> int:
        return sum(count_declarations(blob_content(clone, sha), pattern)
                   for path, sha in tree_files(clone, commit).items() if is_test_file(path, files))


def _matches(pattern: dict, event: dict) -> bool:
    contains = pattern.get("contains")
    return event.get("state") == pattern.get("state") and (not contains or str(contains) in str(event.get("message", "")))


def _describe(pattern: dict) -> str:
    contains = pattern.get("contains")
    return str(pattern.get("state")) + (f" containing {contains!r}" if contains else "")
