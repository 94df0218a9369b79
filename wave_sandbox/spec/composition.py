"""Wave's composition primitives, typed: sub-pipelines, iterate, branch, gate, loop, aggregate, graph edges.

`models.Step` keeps these fields loosely typed (`Any`), so a newer Wave's extra keys stay "not
supported" rather than "unknown"; here each is parsed strictly when a step uses it, and
`composition_checks` reports what is wrong, one line per problem. The Go source is the specification:
internal/pipeline/types.go (IterateConfig, BranchConfig, GateConfig, LoopConfig, AggregateConfig,
SubPipelineConfig), composition.go, gate.go, graph.go, condition.go.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, ValidationError

from wave_sandbox.spec.models import Step, WaveModel

ITERATE, BRANCH, GATE, LOOP, AGGREGATE, SUB_PIPELINE = "iterate", "branch", "gate", "loop", "aggregate", "pipeline"
CONDITIONAL = "conditional"
EDGE_COMPLETE = "_complete"
GATE_FAIL = "_fail"
BRANCH_SKIP = "skip"
DEFAULT_MAX_VISITS = 10
"""Wave's EffectiveMaxVisits default."""
DEFAULT_MAX_STEP_VISITS = 50
"""Wave's EffectiveMaxStepVisits default (the whole graph's visits)."""
GATE_TYPES_RUN = ("approval", "timer")
GATE_TYPES_NEEDING_NETWORK = ("pr_merge", "ci_pass")
AGGREGATE_STRATEGIES = ("merge_arrays", "concat", "reduce")
UNTIL_TRUE = ("true", "done", "yes")
"""Wave's loop-until values that end a loop."""
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_DURATION_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class IterateConfig(WaveModel):
    """Run the step's pipeline once per item of a JSON list."""

    over: str
    """A JSON array, or a template resolving to one (`{{ scope.output.items }}`)."""
    mode: Literal["sequential", "parallel", ""] = "sequential"
    """`parallel` runs up to max_concurrent items at once; anything else runs one at a time."""
    max_concurrent: int = 0
    """Items at once in parallel mode (0: all), always within --max-parallel."""
    on_failure: Literal["fail", "continue", ""] = "fail"
    """`continue` lets the other items finish when one fails."""


class BranchConfig(WaveModel):
    """Pick a pipeline by a value: `cases` maps values to pipeline names (`skip`: nothing)."""

    on: str
    cases: dict[str, str]


class GateChoice(WaveModel):
    label: str
    key: str
    target: str | None = None
    """A step to go to (re-run when it already ran), or `_fail` to stop the run."""


class GateConfig(WaveModel):
    """A blocking step: human approval or a timer (pr_merge and ci_pass need the network: refused)."""

    type: str
    auto: bool = False
    """Take the default choice (or the first) without asking, as Wave does."""
    timeout: str | None = None
    message: str | None = None
    tui_action: str | None = None
    choices: list[GateChoice] = Field(default_factory=list)
    freeform: bool = False
    default: str | None = None
    prompt: str | None = None
    pr_number: int | None = None
    repo: str | None = None
    branch: str | None = None
    interval: str | None = None

    def default_choice(self) -> GateChoice | None:
        """Wave's auto-approval: the default choice, else the first; None for a gate without choices."""
        chosen = next((c for c in self.choices if c.key == self.default), None)
        return chosen or (self.choices[0] if self.choices else None)


class LoopConfig(WaveModel):
    """Repeat the step's pipeline (and its composition sub-steps) until `until` holds or the cap."""

    max_iterations: int = 0
    until: str | None = None
    steps: list[Any] = Field(default_factory=list)


class AggregateConfig(WaveModel):
    """A host-side merge of earlier outputs into one JSON file."""

    from_: str = Field(alias="from")
    into: str
    strategy: str
    key: str | None = None


class SubPipelineConfig(WaveModel):
    """How a sub-pipeline runs. Its artifacts flow back to the parent step, and the parent's reach it by
    pipeline name, whatever `inject` and `extract` list; `env` gives host-side templates (`branch.on`...) `{{ env.KEY }}`;
    stop_condition, timeout and max_cycles are refused."""

    inject: list[str] = Field(default_factory=list)
    extract: list[str] = Field(default_factory=list)
    timeout: str | None = None
    max_cycles: int = 0
    stop_condition: str | None = None
    env: dict[str, str] = Field(default_factory=dict)


def composition_kind(step: Step) -> str | None:
    """Which primitive a step is, in Wave's dispatch order (iterate/branch/loop may also name a pipeline)."""
    for kind in (ITERATE, BRANCH, GATE, LOOP, AGGREGATE):
        if getattr(step, kind):
            return kind
    return SUB_PIPELINE if step.pipeline else None


def is_graph_step(step: Step) -> bool:
    return bool(step.edges) or step.type == CONDITIONAL


def is_host_step(step: Step) -> bool:
    """Steps the host runs without a persona's container: composition primitives and conditional nodes."""
    return composition_kind(step) is not None or step.type == CONDITIONAL


def is_graph_pipeline(steps: list[Step]) -> bool:
    return any(is_graph_step(step) for step in steps)


def parse_config(step: Step, kind: str) -> Any:
    """The typed configuration of the step's primitive (ValidationError when malformed)."""
    models = {ITERATE: IterateConfig, BRANCH: BranchConfig, GATE: GateConfig, LOOP: LoopConfig,
              AGGREGATE: AggregateConfig}
    return models[kind].model_validate(getattr(step, kind)) if kind in models else None


def sub_pipeline_config(step: Step) -> SubPipelineConfig:
    return SubPipelineConfig.model_validate(step.config or {})


def loop_sub_steps(loop: LoopConfig) -> list[Step]:
    return [Step.model_validate(raw) for raw in loop.steps]


def parse_duration(text: str) -> float:
    """Go's time.ParseDuration for the forms Wave's pipelines use (`5s`, `30m`, `1h30m`); ValueError else."""
    cleaned = text.strip()
    parts = _DURATION_PART.findall(cleaned)
    if not cleaned or "".join(number + unit for number, unit in parts) != cleaned:
        raise ValueError(f"'{text}' is not a duration such as 30s, 5m or 1h30m")
    return sum(float(number) * _DURATION_SECONDS[unit] for number, unit in parts)


def parse_condition(expression: str | None) -> tuple[str, str, str]:
    """Wave's edge condition: ("", "", "") always; ("outcome", v, v); ("context", key, value). ValueError else."""
    text = (expression or "").strip()
    if not text:
        return ("", "", "")
    left, equals, right = (part.strip() for part in text.partition("="))
    if not equals or not left or not right:
        raise ValueError(f"condition '{text}' should read outcome=success, outcome=failure or context.KEY=VALUE")
    if left == "outcome" and right in ("success", "failure"):
        return ("outcome", right, right)
    if left.startswith("context.") and left != "context.":
        return ("context", left.removeprefix("context."), right)
    raise ValueError(f"condition '{text}' should read outcome=success, outcome=failure or context.KEY=VALUE")


def first_validation_message(error: ValidationError) -> str:
    detail = error.errors()[0]
    where = ".".join(str(part) for part in detail["loc"])
    return f"{where}: {detail['msg']}" if where else detail["msg"]


HONOURED_STEP_FIELDS = (
    "edges", "max_visits", "pipeline", "input", "config", "iterate", "branch", "gate", "loop", "aggregate",
)


def composition_honours(parent_path: tuple, field: str, value: Any) -> bool:
    """Whether `unsupported` should let this field through: the composition and graph fields are run now."""
    if parent_path == ():
        return field == "max_step_visits"
    if len(parent_path) == 2 and parent_path[0] == "steps":
        return field in HONOURED_STEP_FIELDS or (field == "type" and value == CONDITIONAL)
    return False
