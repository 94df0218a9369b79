"""Pydantic models of Wave's pipeline format (`kind: WavePipeline`), parsed strictly.

Every model forbids unknown keys. Every field Wave accepts is accepted here, so that a well-formed
Wave pipeline always parses; what wave-sandbox does not honour yet is then refused, one line per
feature, by `wave_sandbox.spec.unsupported`. The structures of refused features are typed loosely
(`Any`): we cannot run them anyway, and typing them to the letter of one Wave version would turn a
newer, well-formed Wave pipeline into an "unknown field" error instead of "not supported yet".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from wave_sandbox.bind_mount import BindMount


WORKTREE_TARGET = "/src"
"""Where a `workspace.type: worktree` step sees the run's read-write clone."""
WORKTREE_FALLBACK_TARGET = "/worktree"
"""The same when the step already mounts something read-only at /src."""


class WaveModel(BaseModel):
    """Base of every spec model: unknown keys are errors; `as_` may also be given as `as`.

    The field docstrings are for readers; `use_attribute_docstrings` would copy them into the
    schema, which nothing reads, at the cost of re-parsing this file on every CLI start.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Metadata(WaveModel):
    """The pipeline's identity."""

    name: str
    """The pipeline's name: shown in the console and used in the run branch."""
    description: str = ""
    """One line shown by `wave-sandbox list`."""
    release: bool = False
    """Wave marks pipelines it ships in releases with this; informational here."""
    category: str | None = None
    """Wave groups pipelines by category in its UI; informational here."""
    disabled: bool = False
    """A disabled pipeline is listed but refused by `validate` and `run`."""


class PipelineInput(WaveModel):
    """Where the pipeline's input comes from."""

    source: str = "cli"
    """`cli` (or `stdin`/`file`): the INPUT argument, `--input-file` or stdin."""
    type: str | None = None
    """Wave's input type (`string`, `issue_ref`, ...): descriptive, the input is passed as text."""
    schema_: Any = Field(default=None, alias="schema")
    """A description of the expected input (type, description); informational here."""
    example: str | None = None
    """An example input; informational here."""
    label_filter: str | None = None
    """Wave's issue-label filter for forge inputs (not supported yet)."""
    batch_size: int | None = None
    """Wave's batch size for forge inputs (not supported yet)."""
    path: str | None = None
    """Wave's input file for `source: file` (not supported yet; use --input-file)."""


class Exec(WaveModel):
    """What the step does: for now always a prompt for the persona."""

    type: str = "prompt"
    """`prompt` or `command` (honoured: `command` runs `exec.command` in a container with no model); `slash_command` is not supported yet."""
    source: str | None = None
    """The prompt template, inline."""
    source_path: str | None = None
    """The prompt template, as a file relative to the repository."""
    command: str | None = None
    """`type: command`: the shell command to run (Wave's slash command name for `slash_command`)."""
    args: Any = None
    """`type: command`: arguments appended to the command (Wave's slash command arguments)."""


class InjectArtifact(WaveModel):
    """An artifact of an upstream step, made readable at `/wave/artifacts/<as>`."""

    step: str | None = None
    """The id of the step that declares the artifact."""
    pipeline: str | None = None
    """Wave's cross-pipeline source: an artifact of the parent pipeline, in a sub-pipeline."""
    artifact: str
    """The artifact's name in that step's `output_artifacts`."""
    as_: str = Field(alias="as")
    """The file name it gets under `/wave/artifacts/`."""
    type: str | None = None
    """Wave's expected artifact type: a producer that declares another type is an error (an untyped one is not)."""
    schema_path: str | None = None
    """Wave's JSON schema of the injected artifact (inside the repository), checked before the step starts."""
    optional: bool = False
    """Wave's "missing is fine" flag (accepted: a step whose producer was skipped is skipped too)."""

    def conflicting_type(self, producer: "Step") -> str | None:
        """The type `producer` declares for the artifact when it is not the `type` expected here (Wave's
        artifact type mismatch: both set and different); None when they agree or either is unset."""
        declared = next((a.type for a in producer.output_artifacts if a.name == self.artifact), None)
        return declared if self.type and declared and declared != self.type else None


class Memory(WaveModel):
    """What the step remembers: nothing but the artifacts injected into it."""

    strategy: str = "fresh"
    """`fresh` (honoured): every step starts a new conversation."""
    inject_artifacts: list[InjectArtifact] = Field(default_factory=list)
    """Upstream artifacts to make readable in this step."""


class Mount(WaveModel):
    """A folder of the repository made visible in the step's container."""

    source: str
    """A path relative to the repository (`./` is the repository itself)."""
    target: str
    """The absolute path in the container, e.g. `/src`."""
    mode: Literal["readonly", "readwrite"] = "readonly"
    """`readonly` (kernel-enforced) or `readwrite` (a fresh clone committed to the run branch)."""
    subset_from: Any = None
    """`<step>.<artifact>.<json-path>`: show only the files that artifact lists (copied on the host)."""

    def resolved_source(self, repo: Path) -> Path:
        """The host folder this mount shows: `source` against the repository, symlinks resolved."""
        return (repo / self.source).resolve()

    @property
    def read_only(self) -> bool:
        """The one place `mode` becomes a yes/no: read-only unless `readwrite` is asked for."""
        return self.mode != "readwrite"

    def to_bind_mount(self, repo: Path) -> BindMount:
        """This mount as it travels to the container (the workspace re-points a read-write one at the clone)."""
        return BindMount(self.resolved_source(repo), self.target, self.read_only)


class Workspace(WaveModel):
    """The step's view of the repository."""

    root: str | None = None
    """Wave's workspace root (not supported yet)."""
    mount: list[Mount] = Field(default_factory=list)
    """The folders mounted into the container."""
    type: str | None = None
    """`worktree`: the step works on the run's read-write clone (at /src unless a mount says otherwise)."""
    branch: str | None = None
    """Wave's worktree branch: recorded; the work lands on the run's review branch wave/<pipeline>/<run-id>."""
    base: str | None = None
    """Wave's worktree start point: recorded; the run's clone starts at the repository's HEAD."""
    ref: str | None = None
    """Wave's shared worktree reference (not supported yet)."""


class OutputArtifact(WaveModel):
    """A file the step must leave in `/workspace`."""

    name: str
    """The name other steps inject it by."""
    path: str | None = None
    """Relative to `/workspace`, e.g. `output/triage.json` (required unless `source: stdout`)."""
    type: str | None = None
    """`json` is parsed to check it; `markdown`, `text` and others are taken as they are."""
    required: bool = True
    """A missing required artifact fails the step."""
    source: str | None = None
    """`file` (honoured); Wave's `stdout` capture is not supported yet."""


class SectionRule(WaveModel):
    """One section a `markdown_sections` contract (ours, not Wave's) asks of a Markdown artifact."""

    heading: str | list[str]
    """Keyword(s): a heading holding any of them at the start of a word (case-insensitive) names the section."""
    mentions: list[str | list[str]] = Field(default_factory=list)
    """Terms the section must contain; a list item that is itself a list gives alternatives."""
    check: str | None = None
    """A named content rule: timeline, action_items, five_whys or hypotheses."""

    @property
    def keywords(self) -> tuple[str, ...]:
        return (self.heading,) if isinstance(self.heading, str) else tuple(self.heading)

    @property
    def mention_alternatives(self) -> tuple[tuple[str, ...], ...]:
        return tuple((term,) if isinstance(term, str) else tuple(term) for term in self.mentions)


class Contract(WaveModel):
    """One of Wave's handover contracts: a check of one artifact before the step counts as done."""

    type: str | None = None
    """json_schema, non_empty_file, markdown_sections, test_suite, llm_judge, event_contains, source_diff,
    test_diff, test_count_baseline, agent_review, format, markdown_spec (all honoured)."""
    source: str | None = None
    """The artifact to check: its path relative to /workspace (default: the step's first output artifact)."""
    schema_path: str | None = None
    """json_schema: the schema file, beside the pipeline file or in the repository (markdown_spec: optional
    schema for the parsed spec; format: only its name, which picks Wave's rule set)."""
    must_pass: bool | None = None
    """Wave's default true; false makes the contract advisory (a warning, no retry)."""
    on_failure: str | None = None
    """fail (Wave's default), warn, continue, skip, rework, rejected, or ours: retry and halt."""
    max_retries: int | None = None
    """Wave's retry count; wave-sandbox retries once (1), larger counts are not supported yet."""
    validate_: Any = Field(default=None, alias="validate")
    """Wave's type-check switch; a contract here is always checked."""
    schema_: Any = Field(default=None, alias="schema")
    """Wave's older inline schema or schema path (not supported yet; use schema_path)."""
    command: Any = None
    """test_suite: the command, run in a checker container on the step's result."""
    dir: Any = None
    """test_suite: where the command runs (a mount target; default the first mount)."""
    model: Any = None
    """llm_judge: the judge's model (a tier name means the step's own model)."""
    criteria: Any = None
    """llm_judge: the criteria the artifact is judged against."""
    threshold: Any = None
    """llm_judge: the share of criteria that must pass (default 1.0)."""
    persona: Any = None
    """agent_review: the reviewer persona."""
    criteria_path: Any = None
    """agent_review: the review criteria, a file in the repository."""
    context: Any = None
    """agent_review: Wave's context sources; the reviewer always gets the diff and the checked artifact."""
    token_budget: Any = None
    """agent_review: the reviewer's token budget."""
    timeout: Any = None
    """test_suite: the command's time limit (a duration such as `300s`); agent_review's too."""
    rework_step: Any = None
    """on_failure rework: the step that runs on the same clone when the contract fails."""
    sections: list[SectionRule] = Field(default_factory=list)
    """markdown_sections: the sections the document must have."""
    blameless: bool = False
    """markdown_sections: no sentence may blame a person."""
    command_args: Any = None
    """Wave's test_suite arguments, appended to `command`."""
    events: Any = None
    """event_contains: the events ({state, contains}) the step's own events must include."""
    glob: Any = None
    """source_diff: the changed files that count (Wave's glob)."""
    exclude: Any = None
    """source_diff: changed files that do not count."""
    min_files: Any = None
    """source_diff: how many qualifying changed files are needed (default 1)."""
    max_test_deletions: Any = None
    """test_diff: net test declarations the step may delete (default 0)."""
    test_file_pattern: Any = None
    """test_diff and test_count_baseline: which files hold tests."""
    test_func_pattern: Any = None
    """test_diff and test_count_baseline: a regular expression matching one test declaration per line."""
    base_ref: Any = None
    """test_count_baseline: what the step's result is compared with (default: the commit before the step)."""
    convergence_window: Any = None
    """Wave's rework stall detection window (not supported yet)."""
    convergence_min_improvement: Any = None
    """Wave's rework stall detection threshold (not supported yet)."""


class Handover(WaveModel):
    """What a step hands over: the contracts its artifacts must pass (and Wave's compaction)."""

    contract: Contract | None = None
    """One contract."""
    contracts: list[Contract] = Field(default_factory=list)
    """Several contracts, checked in order (Wave uses these when given, else `contract`)."""
    compaction: Any = None
    """Wave's context compaction: accepted, a step is one fresh conversation, so nothing is compacted."""
    on_review_fail: Any = None
    """Wave's agent-review failure policy (not supported yet)."""
    target_step: Any = None
    """Wave's review target (not supported yet)."""

    def effective_contracts(self) -> list[Contract]:
        """Wave's rule: `contracts` when it has any, else `contract` when it has a type, else none."""
        if self.contracts:
            return list(self.contracts)
        return [self.contract] if self.contract is not None and self.contract.type else []


class Permissions(WaveModel):
    """Which tools the step may use, narrowing the persona's."""

    allowed_tools: list[str] = Field(default_factory=list)
    """Wave tool names: Read, Write, Edit, Bash, Glob, Grep, `*`; a pattern `Bash(git log*)` grants its tool (advisory)."""
    deny: list[str] = Field(default_factory=list)
    """Wave's deny rules: a bare tool name removes the tool; a pattern is recorded as advisory."""


class Retry(WaveModel):
    """Wave's retry policy of a step: attempts in fresh containers, then on_failure."""

    policy: str | None = None
    """none, standard, aggressive or patient."""
    max_attempts: int | None = None
    """Total attempts."""
    backoff: str | None = None
    """fixed, linear or exponential."""
    base_delay: Any = None
    """A duration such as `2s`."""
    max_delay: Any = None
    """A duration such as `30s`."""
    adapt_prompt: bool | None = None
    """Tell the model about the previous failure."""
    on_failure: str | None = None
    """fail, skip, continue or rework."""
    rework_step: str | None = None
    """The step to run when on_failure is rework."""
    no_escalate: bool = False
    """Wave's switch that keeps a retried step on its model tier (retries otherwise move one tier up)."""


class Edge(WaveModel):
    """Wave's graph-mode edge (not supported yet)."""

    target: str
    """The step to go to."""
    condition: str | None = None
    """When to take this edge."""


class Step(WaveModel):
    """One step: a persona working on a prompt in its own container."""

    id: str
    """Unique within the pipeline; used in run records, branch commits and container names."""
    persona: str | None = None
    """The persona that runs the step (required for every step wave-sandbox can run)."""
    adapter: str | None = None
    """Wave's LLM CLI adapter: `claude` or unset (wave-sandbox's own agent); `browser` and others are refused."""
    model: str | None = None
    """A model id within the chosen upstream, over the persona's model."""
    dependencies: list[str] = Field(default_factory=list)
    """Steps that must complete before this one starts."""
    optional: bool = False
    """A failing optional step does not fail the run; its dependents are skipped."""
    timeout_minutes: float | None = None
    """Wall-clock limit of the step, over `--step-timeout`."""
    type: str | None = None
    """`command`: a shell step with no model (its `script`); Wave's other step types are not supported yet."""
    script: str | None = None
    """The shell script of a command step, run with `bash -c` in its own container with no network."""
    exec: Exec | None = None
    """The prompt."""
    memory: Memory = Field(default_factory=Memory)
    """Conversation strategy and injected artifacts."""
    workspace: Workspace | None = None
    """Mounts of the repository."""
    output_artifacts: list[OutputArtifact] = Field(default_factory=list)
    """Files the step leaves in `/workspace`."""
    outcomes: Any = None
    """Wave's deliverable extraction: kept in the run record as untrusted text."""
    handover: Handover | None = None
    """Contracts on the step's artifacts (json_schema, non_empty_file, markdown_sections)."""
    retry: Retry | None = None
    """Wave's retry policy: attempts, backoff, named policies, on_failure."""
    rework_only: bool = False
    """Runs only as another step's rework step, never in the plan."""
    permissions: Permissions | None = None
    """Tool permissions narrowing the persona's tools."""
    thread: Any = None
    """Wave's thread: later steps of the same thread get the earlier steps' final answers in their prompt."""
    fidelity: Any = None
    """Wave's thread fidelity: full (default with a thread), compact, summary (as compact) or fresh."""
    concurrency: Any = None
    """Wave's concurrent agents per step (not supported yet)."""
    max_concurrent_agents: Any = None
    """Wave's sub-agent hint: above 1, the system prompt says how many sub-agents the step may use (as Wave)."""
    strategy: Any = None
    """Wave's matrix fan-out (not supported yet)."""
    edges: list[Edge] = Field(default_factory=list)
    """Wave's graph-mode routing (not supported yet)."""
    max_visits: int | None = None
    """Wave's loop visit cap (not supported yet)."""
    pipeline: Any = None
    """Wave's sub-pipeline (not supported yet)."""
    input: Any = None
    """Wave's sub-pipeline input template (not supported yet)."""
    config: Any = None
    """Wave's sub-pipeline configuration (not supported yet)."""
    iterate: Any = None
    """Wave's iteration over items (not supported yet)."""
    branch: Any = None
    """Wave's conditional branching (not supported yet)."""
    gate: Any = None
    """Wave's approval and timer gates (not supported yet)."""
    loop: Any = None
    """Wave's feedback loops (not supported yet)."""
    aggregate: Any = None
    """Wave's output aggregation (not supported yet)."""
    validation: Any = None
    """Wave's pre-execution checks (not supported yet)."""
    contexts: Any = None
    """Wave's ontology context filter (not supported yet)."""
    skills: list[str] = Field(default_factory=list)
    """Wave's step skills: mounted read-only at /wave/skills/<name> and listed in the system prompt."""

    @property
    def mounts(self) -> list[Mount]:
        """The step's mounts (none when it declares no workspace)."""
        return list(self.workspace.mount) if self.workspace else []

    @property
    def is_readwrite(self) -> bool:
        """True when any mount is read-write or the workspace is a worktree (the step works on the run's clone)."""
        return any(not mount.read_only for mount in self.container_mounts)

    @property
    def is_command(self) -> bool:
        """A Wave command step: a script (or `exec.type: command`) run with no model."""
        return self.type == "command" or bool(self.script) or (self.exec is not None and self.exec.type == "command")

    @property
    def container_mounts(self) -> list[Mount]:
        """The mounts the container gets: the declared ones, plus the run's clone at /src for a worktree
        workspace that declares no read-write mount of its own."""
        mounts = self.mounts
        is_worktree = self.workspace is not None and self.workspace.type == "worktree"
        if is_worktree and all(mount.read_only for mount in mounts):
            taken = {mount.target.rstrip("/") for mount in mounts}
            target = WORKTREE_TARGET if WORKTREE_TARGET not in taken else WORKTREE_FALLBACK_TARGET
            mounts.append(Mount(source="./", target=target, mode="readwrite"))
        return mounts


class Pipeline(WaveModel):
    """A `kind: WavePipeline` file."""

    kind: Literal["WavePipeline"]
    """Always `WavePipeline`."""
    metadata: Metadata
    """Name, description and flags."""
    input: PipelineInput | None = None
    """Where the input comes from."""
    steps: list[Step]
    """The steps, a DAG through their dependencies."""
    hooks: Any = None
    """Wave's lifecycle hooks (not supported yet)."""
    pipeline_outputs: Any = None
    """Wave's named output aliases (for sub-pipelines); descriptive here."""
    skills: Any = None
    """Wave's pipeline skills: mounted read-only in every step and listed in the system prompt."""
    requires: Any = None
    """Wave's preflight: tools checked in the agent image, skills in the repository; `install` refused."""
    max_step_visits: int | None = None
    """Wave's graph-mode visit cap (not supported yet)."""
    chat_context: Any = None
    """Wave's post-run chat context; descriptive here."""

    def step(self, step_id: str) -> Step:
        """The step with this id (KeyError when there is none)."""
        for candidate in self.steps:
            if candidate.id == step_id:
                return candidate
        raise KeyError(step_id)
