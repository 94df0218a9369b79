"""Wave's `agent_review` contract: a reviewer persona judges the step's diff in a container of its own.

The reviewer runs like a step (its own container, gateway token and transcript, under the id
`<step>.review`, so the scripted model answers it from that key): the step's mounts read-only (the clone
as the step left it), the diff of what the step changed and the checked artifact as read-only files
under /wave/artifacts, the review criteria (`criteria_path` in the repository, or `criteria`) in its
prompt. It must write `output/review.json` in Wave's shape; the verdict is parsed on the host as data:
`fail` breaks the contract, `pass` and `warn` hold it. Its tokens are counted in the run's budget.
"""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path

from wave_sandbox.contracts.json_depth import loads_bounded
from wave_sandbox.engine.artifacts import DeclaredArtifact, write_private_file
from wave_sandbox.engine.output_folder import OutputFolder
from wave_sandbox.engine.checker_container import checker_mounts
from wave_sandbox.engine.contract_assessment import check_content_only
from wave_sandbox.engine.llm_judge import MODEL_TIERS
from wave_sandbox.engine.retry_policy import parse_duration
from wave_sandbox.engine.step_execution import execute_attempt
from wave_sandbox.engine.step_prompt import InjectedArtifact
from wave_sandbox.gateway.budgets import Budget
from wave_sandbox.text_safety import one_printable_line
from wave_sandbox.workspace.tree_changes import working_tree_changes

REVIEW_PATH = "output/review.json"
DIFF_LIMIT = 50 * 1024
REVIEW_SHAPE = """{"verdict": "pass" | "fail" | "warn",
 "issues": [{"severity": "critical" | "major" | "minor" | "info", "description": "<description>"}],
 "suggestions": ["<suggestion>"], "confidence": 0.0, "summary": "<one sentence>"}"""


def review_id(step_id: str) -> str:
    return f"{step_id}.review"


def step_diff(run, base: str | None, limit: int = DIFF_LIMIT) -> str:
    """A unified diff of what the step changed in the clone since `base` (read as data), cut at `limit`."""
    clone = run.infrastructure.clone
    if clone is None or base is None:
        return "(the step has no read-write checkout: it changed no files)\n"
    parts = []
    for change in working_tree_changes(clone.path, base):
        before = (change.before or b"").decode("utf-8", "replace").splitlines(keepends=True)
        after = (change.after or b"").decode("utf-8", "replace").splitlines(keepends=True)
        parts += difflib.unified_diff(before, after, f"a/{change.path}", f"b/{change.path}")
    text = "".join(parts) or "(the step changed no files)\n"
    return text if len(text) <= limit else text[:limit] + "\n[... diff truncated ...]\n"


def review_criteria(run, contract) -> str:
    path = contract.setting("criteria_path")
    if isinstance(path, str) and path:
        target = (run.loaded.repo / path).resolve()
        if run.loaded.repo.resolve() in target.parents and target.is_file():
            return target.read_text(encoding="utf-8", errors="replace")[:DIFF_LIMIT]
        return f"(criteria file {path} not found; review for correctness and completeness)"
    criteria = contract.setting("criteria")
    if isinstance(criteria, list) and criteria:
        return "\n".join(f"- {criterion}" for criterion in criteria)
    return "Review the change for correctness, completeness and risk."


def review_prompt(criteria: str, artifact: str | None, mounts: list[str]) -> str:
    seen = f"The checkout the step left behind is read-only at {', '.join(mounts)}. " if mounts else ""
    checked = f"The artifact under review is /wave/artifacts/{artifact}. " if artifact else ""
    return (
        "You review another agent's work. The diff of what it changed is /wave/artifacts/diff. "
        f"{checked}{seen}\n\n## Review criteria\n\n{criteria}\n\n"
        f"Write your verdict to /workspace/{REVIEW_PATH} as this JSON and nothing else:\n\n{REVIEW_SHAPE}\n\n"
        "Use `fail` only for problems that must be fixed. Then answer with a one-line summary, without a tool call."
    )


def reviewer_job(run, job, contract, persona, inputs: Path):
    """The reviewer's StepJob: read-only mounts, the diff and artifact as inputs, review.json as its output."""
    mounts = checker_mounts(job.mounts)
    artifact = Path(contract.source).name if contract.source else None
    injected = [(InjectedArtifact("diff", job.step_id, "diff"), inputs / "diff")]
    if artifact and (inputs / artifact).is_file():
        injected.append((InjectedArtifact(artifact, job.step_id, artifact), inputs / artifact))
    wanted = contract.setting("model")
    model = job.step_description.model if not isinstance(wanted, str) or wanted in MODEL_TIERS else wanted
    timeout_s = int(parse_duration(contract.setting("timeout"), job.timeout_s))
    description = job.step_description.model_copy(update={
        "step_id": review_id(job.step_id), "persona": persona.name, "model": model, "system": persona.system_prompt,
        "prompt": review_prompt(review_criteria(run, contract), artifact, [m.target for m in mounts]),
        "tools": tuple(persona.tools), "max_tokens": persona.max_tokens, "max_turns": persona.max_turns,
        "timeout_s": timeout_s,
    })
    tokens = contract.setting("token_budget")
    budget = Budget(max_requests=persona.max_turns + 5,
                    max_tokens=tokens if isinstance(tokens, int) and tokens > 0 else job.budget.max_tokens if job.budget else None)
    return dataclasses.replace(
        job, step_id=review_id(job.step_id), persona=persona.name, step_description=description, timeout_s=timeout_s,
        mounts=mounts, injected=injected, outputs=[DeclaredArtifact("review", REVIEW_PATH, "json")],
        limits=persona.limits, budget=budget, contracts=[], clone_ceiling=None, attempt=1,
        retry_policy=dataclasses.replace(job.retry_policy, max_attempts=1),
    )


def check_agent_review(run, context, job, contract, content: bytes | None, base: str | None) -> tuple[list[str], str]:
    name = contract.setting("persona")
    persona = run.personas.get(name) if isinstance(name, str) else None
    if persona is None:
        return [f"agent_review: reviewer persona '{name}' is not available"], ""
    inputs = context.record.step_folder(review_id(job.step_id)) / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    write_private_file(inputs, "diff", step_diff(run, base).encode())
    if content is not None and contract.source:
        write_private_file(inputs, Path(contract.source).name, content)
    reviewer = dataclasses.replace(reviewer_job(run, job, contract, persona, inputs), contract_runner=check_content_only)
    private_output = OutputFolder(inputs.parent / "delivered", inputs.parent, "")  # never the user's --output
    private_output.folder.mkdir(exist_ok=True)
    outcome = execute_attempt(dataclasses.replace(context, output=private_output), reviewer)
    if not outcome.succeeded:
        return [f"agent review did not finish: {outcome.message}"], ""
    review = context.record.artifacts_folder(review_id(job.step_id)) / "review.json"
    return parse_review(review.read_bytes() if review.is_file() else b"")


def parse_review(raw: bytes) -> tuple[list[str], str]:
    """Wave's verdict: `fail` breaks the contract with the issues; anything unreadable breaks it too."""
    try:
        review = loads_bounded(raw.decode("utf-8", "replace"))
    except ValueError:
        review = None
    if not isinstance(review, dict) or review.get("verdict") not in ("pass", "fail", "warn"):
        return ["agent review: the reviewer wrote no verdict (pass, fail or warn) to review.json"], ""
    summary = one_printable_line(str(review.get("summary") or ""), 300)
    issues = [i for i in review.get("issues") or [] if isinstance(i, dict)]
    note = f"verdict {review['verdict']}, {len(issues)} issue(s): {summary}"
    if review["verdict"] != "fail":
        return [], note
    listed = [one_printable_line(f"[{i.get('severity', '?')}] {i.get('description', '')}", 300) for i in issues]
    return [f"agent review verdict: fail — {summary}" + "".join(f"; {line}" for line in listed)], note
