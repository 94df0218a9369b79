"""Judge what one agent run left behind: the declared artifacts, then each contract with its on_failure.

Wave's policies (`applyContractOnFailure`), in order of the step's contracts:
- `fail` (Wave's default): the attempt fails; the step's `retry:` policy may run a fresh attempt.
- `retry` (ours, the default of a step without `retry:`): as `fail`, and the agent first gets the errors
  once in the same container. `halt` (ours): the step fails at once, no attempt of any kind follows.
- `warn` and `continue`: reported (a `contract_warning` / `contract_soft_failure` event); the next contract
  is checked and the artifact is used. `must_pass: false` is `warn`.
- `skip`: reported (`contract_skip`); the remaining contracts are not checked and the step passes.
- `rejected`: the step ends as a design rejection: the run stops, without failing.
- `rework`: the attempt fails and the named rework step runs on the same clone (engine.rework).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

from wave_sandbox.contracts import check_contract
from wave_sandbox.contracts.model import (
    ON_FAILURE_CONTINUE, ON_FAILURE_FAIL, ON_FAILURE_HALT, ON_FAILURE_REJECTED, ON_FAILURE_RETRY,
    ON_FAILURE_REWORK, ON_FAILURE_SKIP, ON_FAILURE_WARN, ContractCheck,
)
from wave_sandbox.engine.artifacts import DeclaredArtifact, artifact_problem
from wave_sandbox.sandbox.backend import CollectedFile

PASSED, FAILED, WARNING, SOFT_FAILURE, SKIPPED, REJECTED = (
    "passed", "failed", "warning", "soft_failure", "skipped", "rejected",
)
EVENT_OF_RESULT = {
    PASSED: "contract_passed", FAILED: "contract_failed", WARNING: "contract_warning",
    SOFT_FAILURE: "contract_soft_failure", SKIPPED: "contract_skip", REJECTED: "rejected",
}
SOURCELESS_TYPES = frozenset({"test_suite", "agent_review", "event_contains", "source_diff", "test_diff",
                              "test_count_baseline"})
"""agent_review reviews the diff even when its artifact is missing (its source is optional context)."""
"""Types that look at the step's result or events rather than at one artifact's bytes."""


@dataclass
class ContractVerdict:
    """What one check found: the errors (none when it holds), and whether a mock model answered it."""

    errors: list[str] = field(default_factory=list)
    mock: bool = False
    note: str = ""
    """A line for the record: the judge's score, the reviewer's verdict, where the test output is kept."""


class ContractRunner(Protocol):
    """Checks one contract; the engine's runner reaches containers, the gateway and the run's events."""

    def __call__(self, contract: ContractCheck, content: bytes | None) -> ContractVerdict: ...


def check_content_only(contract: ContractCheck, content: bytes | None) -> ContractVerdict:
    """The host-side checks of an artifact's bytes (json_schema, non_empty_file, markdown_sections...)."""
    return ContractVerdict(check_contract(contract, content or b""))


@dataclass
class ContractResult:
    """One contract's result in one attempt: for the console, the `--json` events and run.json."""

    type: str
    source: str
    result: str
    on_failure: str
    errors: list[str] = field(default_factory=list)
    mock: bool = False
    note: str = ""

    def message(self) -> str:
        what = f"{self.type} on {self.source}" if self.source else self.type
        mock = " (mock)" if self.mock else ""
        label = f"{self.source} ({self.type}): "
        errors = [error.removeprefix(label) for error in self.errors]  # the label is said once, up front
        detail = f": {'; '.join(errors)}" if errors else (f": {self.note}" if self.note else "")
        return f"{what} {self.result.replace('_', ' ')}{mock} (on_failure: {self.on_failure}){detail}"

    def as_record(self) -> dict:
        return {"type": self.type, "source": self.source, "result": self.result, "on_failure": self.on_failure,
                "errors": self.errors, "mock": self.mock, "note": self.note}


@dataclass
class ArtifactAssessment:
    """What the collected files are worth: contents that passed collection, and what is wrong."""

    contents: dict[str, bytes] = field(default_factory=dict)
    """Declared path -> content, for every artifact collected and of its declared type."""
    problems: list[str] = field(default_factory=list)
    """Missing, refused or invalid artifacts and broken contracts: each fails the step."""
    contract_failures: set[str] = field(default_factory=set)
    """Paths whose content is collected but breaks a contract that must pass."""
    warnings: list[str] = field(default_factory=list)
    """Broken contracts that only warn (must_pass: false, on_failure warn or continue)."""
    halt: bool = False
    """A broken contract asked for no retry of any kind (on_failure: halt)."""
    same_container_retry: bool = True
    """Whether the errors may go back to the agent in the same container (only `retry` contracts broke)."""
    rejected: str | None = None
    """A broken `rejected` contract: the step's design rejection, in words."""
    rework_step: str | None = None
    """A broken `rework` contract: the step to run on the same clone."""
    rework_rounds: int = 1
    """How often that rework step may run before the contracts count as failed."""
    results: list[ContractResult] = field(default_factory=list)


def assess_artifacts(
    job, collected: list[CollectedFile], runner: ContractRunner = check_content_only
) -> ArtifactAssessment:
    """Judge the collected files: declared artifacts first, then the contracts on those that arrived."""
    by_path = {item.path: item for item in collected}
    assessment = ArtifactAssessment(same_container_retry=job.same_container_retry)
    for declared in job.outputs:
        item = by_path.get(declared.path)
        problem = collection_problem(declared, item)
        if problem:
            assessment.problems.append(problem)
        else:
            assessment.contents[declared.path] = item.content
    for contract in job.contracts:
        content = assessment.contents.get(contract.source)
        if content is None and contract.type not in SOURCELESS_TYPES:
            continue  # a missing or invalid artifact is reported once, above
        if _apply_contract(assessment, contract, runner(contract, content)):
            break
    return assessment


def _apply_contract(assessment: ArtifactAssessment, contract: ContractCheck, verdict: ContractVerdict) -> bool:
    """Record the verdict under the contract's policy; True when no further contract is checked."""
    policy = contract.on_failure if contract.must_pass else ON_FAILURE_WARN
    result = ContractResult(contract.type, contract.source, PASSED, policy, verdict.errors, verdict.mock, verdict.note)
    assessment.results.append(result)
    if not verdict.errors:
        return False
    result.result = _RESULT_OF_POLICY.get(policy, FAILED)
    return _POLICY_ACTIONS.get(policy, _fail)(assessment, contract, verdict.errors)


def _warn(assessment: ArtifactAssessment, contract: ContractCheck, errors: list[str]) -> bool:
    word = "advisory contract not met" if not contract.must_pass else f"contract not met (on_failure: {contract.on_failure})"
    assessment.warnings += [f"{word}: {error}" for error in errors]
    return False


def _skip(assessment: ArtifactAssessment, contract: ContractCheck, errors: list[str]) -> bool:
    assessment.warnings += [f"contract not met, remaining contracts skipped (on_failure: skip): {e}" for e in errors]
    return True


def _reject(assessment: ArtifactAssessment, contract: ContractCheck, errors: list[str]) -> bool:
    assessment.rejected = f"design rejection: {contract.type} contract reported a non-actionable result ({'; '.join(errors)})"
    return True


def _fail(assessment: ArtifactAssessment, contract: ContractCheck, errors: list[str]) -> bool:
    assessment.problems += errors
    if contract.source:
        assessment.contract_failures.add(contract.source)
    assessment.halt = assessment.halt or contract.on_failure == ON_FAILURE_HALT
    if contract.on_failure != ON_FAILURE_RETRY:
        assessment.same_container_retry = False
    if contract.on_failure == ON_FAILURE_REWORK and assessment.rework_step is None:
        assessment.rework_step, assessment.rework_rounds = contract.rework_step, contract.rework_rounds
    return False


_POLICY_ACTIONS: dict[str, Callable[[ArtifactAssessment, ContractCheck, list[str]], bool]] = {
    ON_FAILURE_WARN: _warn, ON_FAILURE_CONTINUE: _warn, ON_FAILURE_SKIP: _skip, ON_FAILURE_REJECTED: _reject,
    ON_FAILURE_FAIL: _fail, ON_FAILURE_RETRY: _fail, ON_FAILURE_HALT: _fail, ON_FAILURE_REWORK: _fail,
}
_RESULT_OF_POLICY = {ON_FAILURE_WARN: WARNING, ON_FAILURE_CONTINUE: SOFT_FAILURE, ON_FAILURE_SKIP: SKIPPED,
                     ON_FAILURE_REJECTED: REJECTED}


def collection_problem(declared: DeclaredArtifact, item: CollectedFile | None) -> str | None:
    if item is None or item.missing or (item.content is None and item.refusal is None):
        return f"artifact '{declared.name}' was not written to /workspace/{declared.path}"
    if item.refusal:
        return f"artifact '{declared.name}' refused: {item.refusal}"
    return artifact_problem(declared, item.content)
