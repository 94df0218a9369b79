"""The run loop: plan, start what is ready (in parallel where allowed), record, tear down.

Cleanup nets: each step removes its own container in a finally (step_execution); the run removes
everything its registry holds in a finally that a second Ctrl-C cannot interrupt (here); labels let
`clean` find whatever a crash left behind (sandbox.cleanup).
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from wave_sandbox.held_signals import ignoring_interrupts, signals_deferred
from wave_sandbox.engine import events as ev
from wave_sandbox.engine.composition_run import CompositionRunMixin, build_plan
from wave_sandbox.engine.events import EventBus, RunEvent
from wave_sandbox.engine.commit_details import commit_details
from wave_sandbox.engine.infrastructure import RunInfrastructure
from wave_sandbox.engine.failures import one_line_reason
from wave_sandbox.engine.planner import PlannedStep, filter_steps
from wave_sandbox.engine.records import RunRecord
from wave_sandbox.engine.run_file import (
    DEFAULT_STEP_TIMEOUT_S, RecordedOptions, RunFile, RunStatus, StepRecord, StepStatus, default_max_parallel,
)
from wave_sandbox.engine.redaction import files_under, host_secret_values, redact_files
from wave_sandbox.engine.input_schemas import injected_schema_problems
from wave_sandbox.engine.outcomes import extract_outcomes
from wave_sandbox.engine.preflight import preflight_message
from wave_sandbox.engine.threads import save_thread_answer
from wave_sandbox.engine.wave_notices import wave_record
from wave_sandbox.engine.step_attempts import execute_step
from wave_sandbox.engine.step_control import StepControl, continues_after_failure, runs_in_plan
from wave_sandbox.engine.step_execution import StepOutcome
from wave_sandbox.engine.command_step import COMMAND_PERSONA, execute_command_step
from wave_sandbox.engine.worktree_record import record_workspace_choice
from wave_sandbox.engine.mock_plan import plan_mock_step
from wave_sandbox.engine.step_jobs import RunSettings, build_step_job
from wave_sandbox.gateway.prices import PRICES_DATE, PRICES_SOURCE, PriceTable
from wave_sandbox.gateway.usage import Usage
from wave_sandbox.errors import RunInterrupted, WaveSandboxError, WorkspaceError
from wave_sandbox.sandbox.backend import this_process_owner
from wave_sandbox.spec.loader import LoadedPipeline
from wave_sandbox.spec.personas import Persona
from wave_sandbox.workspace.secrets import matches_secret_pattern, secret_patterns
from wave_sandbox.workspace.acting_files import MAX_RECORDED
from wave_sandbox.workspace.clone import removing_path
from wave_sandbox.workspace.subset_mount import remove_step_subsets

INTERRUPTED_MESSAGE = ev.INTERRUPTED_MESSAGE


@dataclass
class RunOptions:
    input_text: str
    output_dir: Path
    output_display: str
    model_spec: str | None = None
    max_parallel: int = field(default_factory=default_max_parallel)
    step_timeout_s: int = DEFAULT_STEP_TIMEOUT_S
    only: list[str] | None = None
    exclude: list[str] | None = None
    keep: bool = False
    attachments: list[Path] = field(default_factory=list)
    upstream_url: str | None = None
    """Another address for the anthropic upstream, from the operator's settings (never a repository's)."""
    runtime: str | None = None
    """The container runtime of every step ("runc", "runsc"); None: the engine's default."""
    clone_ceiling_mb: int | None = None
    """The operator's ceiling on the read-write clone's disk use; a persona's `clone_mb` is held under it."""
    transcript_caps_mb: tuple[int, int] | None = None
    """The operator's ceilings on transcript bytes kept per step and per run (None: the gateway's own)."""
    max_cost_usd: float | None = None
    """--max-cost: the most the run may spend in USD, enforced by the gateway at admission (None: no limit)."""
    prices: PriceTable | None = None
    """The price table (the published one with the user's overrides); None: the published one."""
    upstream_local: bool = False
    """The upstream_url server runs a small local model (its tool calls are constrained and recovered)."""
    token_budgets: tuple[int, int] | None = None
    """(per step, per run) tokens from the settings; None: the engine's defaults."""
    approve: tuple[str, ...] = ()
    """--approve STEP: approval gates approved for an unattended run."""
    auto_approve: bool = False
    """--auto-approve: every approval gate takes its default choice."""
    ceilings: Any = None
    """The operator's ceilings, for the sub-pipelines a run loads as it goes."""


@dataclass
class RunResult:
    run_id: str
    status: RunStatus
    artifacts: list[str]
    record_folder: Path
    failure: str | None = None
    branch: str | None = None
    commits: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    """What this attempt's model requests used and cost."""
    cost_usd: float = 0.0
    """What the run cost, earlier attempts of a resumed run included."""

    @property
    def exit_code(self) -> int:
        return RunStatus(self.status).exit_code


def planned_steps(
    loaded: LoadedPipeline, options: RunOptions, already_completed: set[str] | None = None
) -> list[PlannedStep]:
    """The steps this run executes: --steps/--exclude applied, minus what an earlier attempt finished."""
    completed = already_completed or set()
    steps = [
        PlannedStep(s.id, tuple(s.dependencies), readwrite=s.is_readwrite, optional=continues_after_failure(s))
        for s in loaded.pipeline.steps if runs_in_plan(s)
    ]
    kept = filter_steps(steps, options.only, options.exclude, already_completed=completed)
    return [step for step in kept if step.id not in completed]


def completed_steps(record: RunRecord | None) -> set[str]:
    if record is None:
        return set()
    return record.run_file.completed_steps()


class PipelineRun(CompositionRunMixin):
    """One run of one pipeline; `execute()` returns its result or raises RunInterrupted."""

    def __init__(
        self,
        loaded: LoadedPipeline,
        personas: dict[str, Persona],
        options: RunOptions,
        infrastructure: RunInfrastructure,
        listeners: list[Callable[[RunEvent], None]],
        notify: Callable[[str], None],
        resumed_record: RunRecord | None = None,
    ):
        self.loaded = loaded
        self.personas = personas
        self.options = options
        self.infrastructure = infrastructure
        self.bus = EventBus(listeners)
        self.notify = notify
        self.resumed_record = resumed_record
        completed = completed_steps(resumed_record)
        self.plan = build_plan(loaded, planned_steps(loaded, options, completed), completed, resumed_record)
        self.run_id = infrastructure.run_id
        self.record: RunRecord | None = None
        recorded_steps = resumed_record.run_file.steps if resumed_record else {}
        self.artifacts_by_step: dict[str, list[str]] = {
            step_id: list(recorded_steps[step_id].artifacts) for step_id in completed
        }
        self.failures: dict[str, str] = {}
        self.preflight_failure: str | None = None
        self.started = time.monotonic()
        self._masks_notified = False
        self._masks_lock = threading.Lock()
        self.control = StepControl(self)
        self._setup_composition()

    # ----- events -------------------------------------------------------------------------
    def emit(self, state: str, **fields: Any) -> None:
        event = RunEvent(state, self.run_id, self.loaded.name, **self._label_fields(fields))
        if self.record is not None:
            self.record.append_event(event)
        self.bus.emit(event)

    def persona_of(self, step_id: str) -> Persona:
        step = next(s for s in self.loaded.pipeline.steps if s.id == step_id)
        if self._is_host_step(step_id):
            return self._host_persona(step_id)
        return COMMAND_PERSONA if step.is_command else self.personas[step.persona]

    # ----- the run ------------------------------------------------------------------------
    def execute(self) -> RunResult:
        if self.resumed_record is None:
            self.record = RunRecord.create(self.loaded.repo, self.run_id, self._initial_record())
            self.emit(ev.RUN_STARTED, message=f"Running {self.loaded.name}")
        else:
            self.record = self.resumed_record
            self.record.update(status=RunStatus.RUNNING, model=self.infrastructure.model_description,
                               resumed_at=datetime.now(timezone.utc).isoformat(), owner=this_process_owner(),
                               failure=None, finished_at=None, options=self._resumed_options(),
                               steps=self._resumed_steps())
            self.emit(ev.RUN_STARTED, message=f"Resuming {self.loaded.name} after {', '.join(sorted(self.plan.already_completed)) or 'nothing'}")
        interrupted, failure = False, None
        try:
            self.infrastructure.start(self.record, self.plan, self.notify, self.options.transcript_caps_mb,
                                      self._cost_limit(), self.options.prices, self.options.token_budgets)  # fmt: skip
            if not self._preflight_fails():
                self._loop()
        except KeyboardInterrupt:
            interrupted = True
        except Exception as error:  # setup (environment, gateway, clone, output folder) or the loop's own bookkeeping
            failure = error
        finally:
            if interrupted:
                self._stop_after_interrupt()
            self._teardown_uninterruptibly()
        if failure is not None:
            self._finish_after_error(failure)
        return self._finish(interrupted)

    def _preflight_fails(self) -> bool:
        """Wave's preflight (requires.tools in the agent image); when it fails, every step is skipped."""
        missing = self.preflight.missing_for(self.loaded.pipeline)
        if not missing:
            return False
        self.preflight_failure = preflight_message(missing)
        for step_id in self.plan.skip_all_pending():
            self._emit_skipped(step_id, self.preflight_failure)
        return True

    def _resumed_options(self) -> dict[str, Any]:
        """The recorded options with this resume's overrides, so that a later resume runs on with them."""
        return {**self.record.data.get("options", {}), "runtime": self.options.runtime,
                "step_timeout_s": self.options.step_timeout_s, "max_parallel": self.options.max_parallel}

    def _resumed_steps(self) -> dict[str, Any]:
        """Steps this resume runs again start over as pending (a killed run left them `running`)."""
        steps = dict(self.record.data.get("steps", {}))
        for step in self.plan.steps:
            steps[step.id] = {**steps.get(step.id, {}), "status": StepStatus.PENDING.value}
        return steps

    def _finish_after_error(self, error: Exception) -> None:
        """A failure outside any step (most often before the first one): the record ends as failed
        with its one-line reason, the closing lines say it, and the error goes on to the CLI."""
        reason = one_line_reason(error)
        duration_ms = int((time.monotonic() - self.started) * 1000)
        with ignoring_interrupts():
            self.record.update(status=RunStatus.FAILED, failure=reason, duration_ms=duration_ms,
                               finished_at=datetime.now(timezone.utc).isoformat())
            self.emit(ev.RUN_FAILED, duration_ms=duration_ms, message=reason, branch=None, commits=[])
        error.run_id, error.repo = self.run_id, self.loaded.repo
        error.reported = isinstance(error, WaveSandboxError)
        raise error

    def _initial_record(self) -> RunFile:
        options = RecordedOptions(
            max_parallel=self.options.max_parallel,
            step_timeout_s=self.options.step_timeout_s,
            steps=self.options.only,
            exclude=self.options.exclude,
            keep=self.options.keep,
            output=str(self.options.output_dir),
            output_display=self.options.output_display,
            attachments=[str(path) for path in self.options.attachments],
            runtime=self.options.runtime,
            max_cost_usd=self.options.max_cost_usd,
        )
        return RunFile(
            run_id=self.run_id,
            pipeline=self.loaded.name,
            pipeline_file=str(self.loaded.path),
            input=self.options.input_text,
            model=self.infrastructure.model_description,
            status=RunStatus.RUNNING,
            started_at=datetime.now(timezone.utc).isoformat(),
            owner=this_process_owner(),
            options=options,
            steps={s.id: StepRecord(status=StepStatus.PENDING) for s in self.plan.steps},
            **({"wave": wave} if (wave := wave_record(self.loaded)) else {}),
            mock=self.infrastructure.model.is_mock,
        )

    def _loop(self) -> None:
        running: dict[Future, str] = {}
        self._after_graph_move()  # a resumed graph that a visit cap stopped stops again, with its one line
        # Not a `with` block: its exit would wait for running steps before Ctrl-C could kill them.
        pool = ThreadPoolExecutor(max_workers=max(1, self.options.max_parallel))
        try:
            while not self.plan.is_finished():
                self._start_ready_steps(pool, running)
                if not running:
                    break
                with signals_deferred():  # Ctrl-C lands after the wait, never among the futures' locks
                    done, _ = wait(list(running), timeout=0.25, return_when=FIRST_COMPLETED)
                for future in done:
                    self._step_finished(running.pop(future), future)
        except KeyboardInterrupt:
            self.control.stopping.set()  # backoffs, gates and timers stop waiting, so the pool's threads can end
            with ignoring_interrupts():
                self.infrastructure.kill_running_containers()
            raise
        finally:
            with ignoring_interrupts():
                pool.shutdown(wait=True, cancel_futures=True)

    def _start_ready_steps(self, pool: ThreadPoolExecutor, running: dict[Future, str]) -> None:
        for step_id in self.plan.ready_steps():
            if len(running) >= max(1, self.options.max_parallel):
                return
            if self._is_host_step(step_id):
                self._start_host_step(pool, running, step_id)
                continue
            self.plan.mark_running(step_id)
            persona = self.persona_of(step_id)
            self.record.update_step(step_id, status=StepStatus.RUNNING, persona=persona.name,
                                    started_at=datetime.now(timezone.utc).isoformat())
            self.emit(ev.STEP_STARTED, step_id=step_id, persona=persona.name, message="Starting step")
            running[pool.submit(self._run_step, step_id)] = step_id

    def _run_step(self, step_id: str) -> StepOutcome:
        outcome = self._run_step_once(step_id)
        return self.control.after_step(step_id, outcome)

    def _run_step_once(self, step_id: str) -> StepOutcome:
        self._refuse_unresolved_injections(step_id)
        persona = self.persona_of(step_id)
        step = self.loaded.pipeline.step(step_id)
        if problems := injected_schema_problems(self.loaded, step, self._recorded_artifact):
            return StepOutcome(False, "; ".join(problems), 0)
        try:
            job = build_step_job(
                self.loaded, step_id, persona, self._settings(step_id), self.record, self.infrastructure.clone
            )
        except WorkspaceError as error:  # a subset_from list over its caps or malformed
            return StepOutcome(False, f"preparing the step's workspace failed: {error}", 0)
        record_workspace_choice(self.record, self.loaded, step_id, self._settings(step_id))
        job.budget = self.infrastructure.step_budget(persona)
        if self.infrastructure.model.is_mock:
            plan_mock_step(self.infrastructure.model.upstream, job)
        self._notify_masks_once([*job.masked_paths, *job.redacted_files])
        context = self.infrastructure.step_context(self.record, self.options)
        self.control.prepare(job, context)
        self.record.update_step(step_id, limits=job.limits.model_dump(), timeout_s=job.timeout_s,
                                model=job.step_description.model, tools=list(job.step_description.tools))
        try:
            outcome = execute_command_step(context, job) if job.command_argv else execute_step(context, job)
        finally:
            if not self.options.keep:
                remove_step_subsets(self.record.folder, step_id)
        outcome.refusals = job.warnings + outcome.refusals
        self.control.record_contracts(step_id, outcome)
        if outcome.succeeded and self.loaded.pipeline.step(step_id).is_readwrite:
            commits_before = len(self.infrastructure.branch_report().commits)
            try:
                outcome.refusals += self.infrastructure.commit_step_changes(
                    step_id, persona.name, outcome.message, self.notify, commit_details(outcome, job, self.record)
                )
            except WorkspaceError as error:
                outcome.succeeded, outcome.message = False, f"committing the step's changes failed: {error}"
            self._record_branch_so_far(step_id, commits_before)
        return outcome

    def _recorded_artifact(self, step_id: str, name: str) -> Path:
        declared = next(a for a in self.loaded.pipeline.step(step_id).output_artifacts if a.name == name)
        return self.record.artifacts_folder(step_id) / Path(declared.path or name).name

    def _record_branch_so_far(self, step_id: str, commits_before: int) -> None:
        """The branch and its commits as they stand, at once: a run killed later resumes on top of them."""
        branch = self.infrastructure.branch_report()
        if len(branch.commits) > commits_before:
            self.record.update_step(step_id, commit=branch.commits[-1])
        if branch.name:
            self.record.update(branch=branch.name, commits=branch.commits)

    def _settings(self, step_id: str | None = None) -> RunSettings:
        return RunSettings(
            run_id=self.run_id,
            input_text=self.composer.input_of(step_id) if step_id else self.options.input_text,
            default_model=self.infrastructure.default_model,
            model_overrides_persona=self.infrastructure.model_is_explicit,
            step_timeout_s=self.options.step_timeout_s,
            attachments=tuple(self.options.attachments),
            clone_ceiling_mb=self.options.clone_ceiling_mb,
            mock=self.infrastructure.model.is_mock,
        )

    def _step_finished(self, step_id: str, future: Future) -> None:
        try:
            outcome = future.result()
        except Exception as error:  # a broken step must not take the run's bookkeeping with it
            outcome = StepOutcome(False, f"{type(error).__name__}: {error}", 0)
        if not isinstance(outcome, StepOutcome):
            return self._host_step_finished(step_id, outcome)
        for refusal in outcome.refusals:
            self.notify(f"warning: {refusal}")
        self.artifacts_by_step[step_id] = outcome.artifacts
        persona = self.persona_of(step_id).name
        common = dict(step_id=step_id, persona=persona, duration_ms=outcome.duration_ms,
                      tokens_in=outcome.tokens_in, tokens_out=outcome.tokens_out,
                      message=outcome.message, artifacts=outcome.artifacts, cost_usd=round(outcome.cost_usd, 6))
        state = StepStatus.COMPLETED if outcome.succeeded else StepStatus.FAILED
        self.record.update_step(step_id, status=state, summary=outcome.message,
                                duration_ms=outcome.duration_ms, tokens_in=outcome.tokens_in,
                                tokens_out=outcome.tokens_out, artifacts=outcome.artifacts,
                                refusals=outcome.refusals, cost_usd=round(outcome.cost_usd, 6),
                                cache_read_tokens=outcome.cache_read_tokens,
                                cache_write_tokens=outcome.cache_write_tokens)
        if outcome.succeeded:
            step = self.loaded.pipeline.step(step_id)
            save_thread_answer(self.record.step_folder(step_id), step, outcome.final_text)
            if outcomes := extract_outcomes(step, self.record.artifacts_folder(step_id)):
                self.record.update_step(step_id, outcomes=outcomes)
            self.plan.mark_completed(step_id)
            self.emit(ev.STEP_COMPLETED, **common)
            return self._after_graph_move()
        if self.control.finish_unsuccessful(step_id, outcome, common):
            return self._after_graph_move()
        self.failures[step_id] = outcome.message
        self.emit(ev.STEP_FAILED, **common)
        for skipped in self.plan.mark_failed(step_id, outcome.message):
            self._emit_skipped(skipped, f"needs {step_id}, which failed")
        self._stop_siblings_after_a_failure(step_id)
        self._after_graph_move()

    def _emit_skipped(self, step_id: str, reason: str) -> None:
        self.record.update_step(step_id, status=StepStatus.SKIPPED, summary=reason)
        self.emit(ev.STEP_SKIPPED, step_id=step_id, persona=self.persona_of(step_id).name, message=reason)

    # ----- endings ------------------------------------------------------------------------
    def _stop_after_interrupt(self) -> None:
        with ignoring_interrupts():
            for step_id in self.plan.running_steps():
                self.plan.states[step_id] = StepStatus.FAILED
                self.record.update_step(step_id, status=StepStatus.INTERRUPTED)
                self.emit(ev.STEP_FAILED, step_id=step_id, persona=self.persona_of(step_id).name,
                          message=INTERRUPTED_MESSAGE)
            for step_id in self.plan.skip_all_pending():
                self._emit_skipped(step_id, INTERRUPTED_MESSAGE)

    def _teardown_uninterruptibly(self) -> None:
        with ignoring_interrupts():
            for problem in self.infrastructure.stop(keep=self.options.keep):
                self.notify(f"warning: cleanup: {problem}")
            self._redact_written_files()

    def _redact_written_files(self) -> None:
        """Everything this run wrote: its record (minus the clone) and the artifacts it delivered."""
        secrets = host_secret_values(os.environ)
        clone = self.record.folder / "clone"
        written = files_under(self.record.folder, skipped=frozenset({clone, removing_path(clone)}))
        written += [
            self.options.output_dir / Path(shown).name
            for delivered in self.artifacts_by_step.values()
            for shown in delivered
        ]
        for path in redact_files(written, secrets):
            self.notify(f"warning: redacted a host secret from {path}")

    def _notify_masks_once(self, masked_paths: list[str]) -> None:
        masked = [path for path in masked_paths if not path.endswith(".wave/runs")]
        with self._masks_lock:
            if not masked or self._masks_notified:
                return
            self._masks_notified = True
            patterns = secret_patterns(self.loaded.repo)
            secrets = [path for path in masked if matches_secret_pattern(path, patterns)]
            sockets = len(masked) - len(secrets)  # the rest are sockets, FIFOs and device nodes
            if secrets:
                self.notify(
                    f"notice: masked {len(secrets)} secret-looking file(s) from the agent (patterns applied: "
                    f"{', '.join(patterns)}; and credentials in .git/config); .wave/masks adds patterns, it never "
                    "removes one"
                )
            if sockets:
                self.notify(f"notice: masked {sockets} socket(s) or FIFO(s) in the repository from the agent "
                            "(a live socket would answer it)")

    def _finish(self, interrupted: bool) -> RunResult:
        final_artifacts = [
            path for step_id in self._final_steps() for path in self.artifacts_by_step.get(step_id, [])
        ]
        failed = self.plan.failed_required_steps()
        failed = failed or ([] if self.preflight_failure is None else ["preflight"])
        if self.stopped_by is not None:  # a gate's _fail, maybe a child's: the run fails, with the gate's line first
            failed = [self.stopped_by, *[step_id for step_id in failed if step_id != self.stopped_by]]
        status = RunStatus.INTERRUPTED if interrupted else (RunStatus.FAILED if failed else RunStatus.COMPLETED)
        if status is RunStatus.COMPLETED and self.control.rejection:
            status = RunStatus.REJECTED
        failure = self._failure_text(failed, interrupted)
        branch = self.infrastructure.branch_report()
        duration_ms = int((time.monotonic() - self.started) * 1000)
        usage, cost_usd = self._spent()
        self.record.update(cost_usd=round(cost_usd, 6), prices=self._prices_label())
        self.record.update(status=status, failure=failure, duration_ms=duration_ms,
                           finished_at=datetime.now(timezone.utc).isoformat(),
                           branch=branch.name, commits=branch.commits, artifacts=final_artifacts,
                           acting_files=[acting.as_record() for acting in branch.acting_files[:MAX_RECORDED]])
        self.emit(ev.RUN_COMPLETED if status in (RunStatus.COMPLETED, RunStatus.REJECTED) else ev.RUN_FAILED,
                  duration_ms=duration_ms, artifacts=final_artifacts, message=failure or self.control.rejection or "",
                  branch=branch.name, commits=branch.commits, branch_files_changed=branch.files_changed,
                  branch_acting_files=branch.acting_files, cost_usd=round(cost_usd, 6),
                  mock=self.infrastructure.model.is_mock)
        result = RunResult(self.run_id, status, final_artifacts, self.record.folder, failure,
                           branch.name, branch.commits, usage, cost_usd)
        if interrupted:
            stopped = RunInterrupted(
                f"run {self.run_id} interrupted; finished steps' artifacts are kept in {self.record.folder}"
            )
            stopped.run_id, stopped.repo, stopped.reported = self.run_id, self.loaded.repo, True
            raise stopped
        return result

    def _cost_limit(self) -> float | None:
        """--max-cost less what earlier attempts of a resumed run spent."""
        if self.options.max_cost_usd is None:
            return None
        earlier = self.resumed_record.run_file.cost_usd if self.resumed_record is not None else None
        return max(0.0, self.options.max_cost_usd - (earlier or 0.0))

    def _spent(self) -> tuple[Usage, float]:
        """This attempt's usage, and the run's cost with what earlier attempts of a resumed run spent."""
        gateway = self.infrastructure.gateway
        usage = gateway.run_usage() if gateway is not None else Usage()
        earlier = self.resumed_record.run_file.cost_usd if self.resumed_record is not None else None
        return usage, (earlier or 0.0) + usage.cost_usd

    def _prices_label(self) -> str:
        tables = f"{PRICES_SOURCE} as of {PRICES_DATE}"
        custom = self.options.prices is not None and self.options.prices.has_overrides
        return tables + (", with the user's prices: settings" if custom else "")

    def _final_steps(self) -> list[str]:
        """Steps of the pipeline nothing depends on: their artifacts are the run's result."""
        steps = [step for step in self.loaded.pipeline.steps if step.id in self.root_step_ids and runs_in_plan(step)]
        depended_on = {dependency for step in steps for dependency in step.dependencies}
        return [step.id for step in steps if step.id not in depended_on]

    def _failure_text(self, failed: list[str], interrupted: bool) -> str | None:
        if interrupted:
            return INTERRUPTED_MESSAGE
        if not failed:
            return None
        if self.preflight_failure:
            return self.preflight_failure
        first = failed[0]
        return f"step {first} failed: {self.failures.get(first, 'unknown error')}"
