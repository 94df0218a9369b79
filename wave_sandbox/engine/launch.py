"""Everything between the CLI's parsed options and a running PipelineRun.

Checks come first and create nothing (pipeline, personas, model, repository), so a configuration
mistake never leaves a container, socket folder or record behind. The engine's own checks (runtime,
image) ask the backend, and go on while the run's environment is made (`EarlyEnvironment`); when one
refuses, that environment is removed before the error is reported. The CLI passes in the
sandbox backend (Docker, or the fake in tests) and the listeners that display the run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from wave_sandbox.engine.early_environment import EarlyEnvironment
from wave_sandbox.engine.output_folder import OutputFolder
from wave_sandbox.engine.events import RunEvent
from wave_sandbox.engine.infrastructure import ModelSetup, ResumedBranch, RunInfrastructure
from wave_sandbox.engine.liveness import RunLease, is_run_alive, kept_run_ids, mark_kept
from wave_sandbox.engine.records import RunRecord
from wave_sandbox.engine.run_file import RunFile, RunStatus
from wave_sandbox.engine.run_ids import new_run_id
from wave_sandbox.engine.resume_plan import rewind_record
from wave_sandbox.engine.run_lookup import find_run
from wave_sandbox.engine.wave_notices import wave_notices
from wave_sandbox.engine.run_state import run_state
from wave_sandbox.engine.sub_pipelines import composition_needs_clone
from wave_sandbox.engine.runner import PipelineRun, RunOptions, RunResult, planned_steps
from wave_sandbox.errors import CeilingError, ConfigurationError
from wave_sandbox.held_signals import ignoring_interrupts
from wave_sandbox.gateway.mock_model import MOCK_MODEL_ID
from wave_sandbox.gateway.model_spec import make_upstream, parse_model_spec
from wave_sandbox.sandbox.backend import SandboxBackend, this_process_owner
from wave_sandbox.settings import Ceilings, load_ceilings
from wave_sandbox.gateway.user_prices import user_price_table
from wave_sandbox.spec.loader import LoadedPipeline, find_pipeline_file, load_pipeline
from wave_sandbox.spec.overrides import overrides_notice
from wave_sandbox.workspace.repository import has_commits, is_git_repository

SCRIPTED_MODEL_ID = "scripted"
DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-4-5"

Listener = Callable[[RunEvent], None]


def choose_model(options: RunOptions, cwd: Path, notify: Callable[[str], None], ceilings: Ceilings) -> ModelSetup:
    choice = parse_model_spec(options.model_spec, cwd, os.environ, options.upstream_url)
    model_id = SCRIPTED_MODEL_ID if choice.kind == "scripted" else choice.model_id or DEFAULT_ANTHROPIC_MODEL
    model_id = MOCK_MODEL_ID if choice.kind == "mock" else model_id
    refuse_model_outside_policy(model_id, ceilings)
    upstream = make_upstream(choice, os.environ, options.upstream_url, options.upstream_local)
    if options.upstream_local and choice.kind != "openai":
        notify("warning: --upstream-local changes only an openai: upstream (tool calls recovered from JSON text); ignored")
    if choice.kind == "mock":
        notify("notice: --model mock: the built-in mock model writes stub artifacts that pass the contracts; "
               "no real model is called")
        return ModelSetup(upstream, "mock", MOCK_MODEL_ID, True)
    if choice.kind == "scripted":
        notify(f"notice: using the offline scripted model from {choice.script_path}; no real model is called")
        return ModelSetup(upstream, f"scripted:{choice.script_path}", SCRIPTED_MODEL_ID, True)
    if choice.kind == "openai":
        notify(f"notice: the model is {upstream.description}; the gateway translates the Messages API to it")
    return ModelSetup(upstream, f"{choice.kind}:{model_id}", model_id, bool(choice.model_id))


def refuse_model_outside_policy(model_id: str, ceilings: Ceilings) -> None:
    """The model finally chosen (the default included) must be one the operator's policy allows."""
    refusal = ceilings.model_refusal(model_id)
    if refusal:
        raise CeilingError(refusal)


def refuse_options_above_ceilings(options: RunOptions, ceilings: Ceilings) -> None:
    """A resumed run's recorded step timeout must still fit the policy (it may have been lowered)."""
    refusal = ceilings.above("step_timeout_s", options.step_timeout_s)
    if refusal:
        raise CeilingError(f"the run's recorded step timeout: {refusal}; pass a run within the policy")


def apply_run_ceilings(options: RunOptions, ceilings: Ceilings) -> None:
    """The operator's run-wide ceilings the engine enforces itself: the clone's disk, transcript bytes."""
    options.clone_ceiling_mb = ceilings.clone_mb
    options.transcript_caps_mb = (ceilings.transcript_step_mb, ceilings.transcript_run_mb)
    options.ceilings = ceilings


def announce_overrides(loaded: LoadedPipeline, notify: Callable[[str], None]) -> None:
    """Once, before anything starts: which built-ins this repository's files replace."""
    used = [step.persona for step in loaded.pipeline.steps if step.persona]
    notice = overrides_notice(loaded.path, loaded.name, used, loaded.repo)
    if notice:
        notify(notice)


def check_repository(loaded: LoadedPipeline, repo: Path, options: RunOptions) -> bool:
    """Return whether a read-write clone is needed; refuse when it is and `repo` is no git repository."""
    if not repo.is_dir():
        raise ConfigurationError(f"--repo {repo} is not a folder")
    kept = {step.id for step in planned_steps(loaded, options)}
    readwrite = [s.id for s in loaded.pipeline.steps if s.id in kept and s.is_readwrite]
    if not readwrite and composition_needs_clone(loaded, options.ceilings):
        readwrite = [f"a sub-pipeline of {loaded.name}"]
    if readwrite and not is_git_repository(repo):
        raise ConfigurationError(
            f"step '{readwrite[0]}' mounts the repository read-write, which needs a git repository; "
            f"{repo} is not one (run inside a git checkout or pass --repo)"
        )
    if readwrite and not has_commits(repo):
        raise ConfigurationError(
            f"step '{readwrite[0]}' works on a clone of the last commit, and {repo} has no commits yet; "
            "commit something, then run again"
        )
    return bool(readwrite)


def launch_run(
    pipeline: str,
    repo: Path,
    options: RunOptions,
    backend: SandboxBackend,
    listeners: list[Listener],
    notify: Callable[[str], None],
) -> RunResult:
    ceilings = load_ceilings()  # once per run: for the pipeline, the model and the run's own ceilings
    loaded = load_pipeline(find_pipeline_file(pipeline, repo), repo, ceilings)
    return _execute(loaded, repo, options, backend, listeners, notify, new_run_id(), ceilings=ceilings)


def launch_resume(
    run: str,
    repo: Path,
    model_spec: str | None,
    keep: bool,
    backend: SandboxBackend,
    listeners: list[Listener],
    notify: Callable[[str], None],
    upstream_url: str | None = None,
    runtime: str | None = None,
    upstream_local: bool = False,
    *,
    step_timeout_s: int | None = None,
    max_parallel: int | None = None,
    from_step: str | None = None,
    approve: tuple[str, ...] = (),
    auto_approve: bool = False,
) -> RunResult:
    """Re-run a failed or interrupted run from its first unfinished step (or `from_step`), in the same
    record and branch; the overrides given replace the recorded options from now on."""
    record = find_run(repo, run)
    refuse_run_not_resumable(record, from_step)
    recorded = record.run_file
    ceilings = load_ceilings()
    loaded = load_pipeline(Path(recorded.pipeline_file), repo, ceilings)
    options = resumed_run_options(recorded, model_spec, keep, upstream_url, runtime)
    options.upstream_local = upstream_local
    options.step_timeout_s = step_timeout_s or options.step_timeout_s
    options.max_parallel = max_parallel or options.max_parallel
    options.approve, options.auto_approve = approve, auto_approve
    refuse_options_above_ceilings(options, ceilings)
    if from_step:
        rewind_record(loaded, record, from_step)
    return _execute(loaded, repo, options, backend, listeners, notify, record.run_id, record, ceilings=ceilings)


def refuse_run_not_resumable(record: RunRecord, from_step: str | None) -> None:
    """Refuse a live run (cancel it first), a completed one (unless run again from a step), an old record."""
    state = run_state(record.run_file)
    if state.alive or is_run_alive(record.run_id):
        raise ConfigurationError(
            f"run {record.run_id} is still running; wait for it or stop it with `wave-sandbox cancel {record.run_id}`"
        )
    if state.status is RunStatus.COMPLETED and not from_step:
        raise ConfigurationError(
            f"run {record.run_id} completed; there is nothing to resume (--from-step STEP runs a step again)"
        )
    if not record.run_file.pipeline_file:
        raise ConfigurationError(f"run {record.run_id} does not record its pipeline file; start a new run")


def resumed_run_options(
    recorded: RunFile, model_spec: str | None, keep: bool, upstream_url: str | None, runtime: str | None = None
) -> RunOptions:
    """The recorded run's options (the model's defaults where an older record lacks one), with this call's."""
    return RunOptions(
        input_text=recorded.input,
        output_dir=Path(recorded.options.output),
        output_display=recorded.options.shown_output,
        model_spec=model_spec or recorded.model,
        max_parallel=recorded.options.max_parallel,
        step_timeout_s=recorded.options.step_timeout_s,
        only=recorded.options.steps,
        exclude=recorded.options.exclude,
        keep=keep,
        attachments=[Path(path) for path in recorded.options.attachments],
        upstream_url=upstream_url,
        runtime=runtime or recorded.options.runtime,
        max_cost_usd=recorded.options.max_cost_usd,
        prices=user_price_table(),
    )


def resumed_branch_of(record: RunRecord) -> ResumedBranch | None:
    base = record.run_file.base_commit
    if not base:
        return None
    commits = list(record.run_file.commits)
    return ResumedBranch(start=base, tip=commits[-1] if commits else base, commits=commits)


def _execute(
    loaded: LoadedPipeline,
    repo: Path,
    options: RunOptions,
    backend: SandboxBackend,
    listeners: list[Listener],
    notify: Callable[[str], None],
    run_id: str,
    resumed_record: RunRecord | None = None,
    *,
    ceilings: Ceilings,
) -> RunResult:
    apply_run_ceilings(options, ceilings)
    needs_clone = check_repository(loaded, repo, options)
    output = OutputFolder(options.output_dir, repo, options.output_display)
    output.check(run_id)  # before anything is created: a refused folder leaves nothing behind
    announce_overrides(loaded, notify)
    for notice in wave_notices(loaded):
        notify(notice)
    model = choose_model(options, Path.cwd(), notify, ceilings)
    if resumed_record is not None:  # its killed attempt may have left objects under this very run id: first
        remove_leftovers_of_dead_runs(backend, notify)
    # The run's environment is made while the engine is checked below;
    # a check that fails, or Ctrl-C, removes it again: `finally` discards what the run did not take.
    early_environment = EarlyEnvironment(backend, run_id, this_process_owner())
    try:
        options.runtime = choose_runtime(backend, options.runtime, notify)
        warn_about_reduced_controls(backend, notify)
        image = backend.ensure_image(notify)
        if resumed_record is None:  # a new run id: nothing of an earlier run can carry it
            remove_leftovers_of_dead_runs(backend, notify)  # spares this run: its objects carry a live owner
        if options.keep:
            mark_kept(run_id)
        resumed_branch = resumed_branch_of(resumed_record) if resumed_record else None
        with RunLease(run_id):
            infrastructure = RunInfrastructure(run_id, repo, backend, image, model, output, needs_clone,
                                               resumed_branch, early_environment)
            run = PipelineRun(loaded, loaded.personas, options, infrastructure, listeners, notify, resumed_record)
            return run.execute()
    finally:
        with ignoring_interrupts():
            for problem in early_environment.discard():
                notify(f"warning: cleanup: {problem}")


def choose_runtime(backend: SandboxBackend, runtime: str | None, notify: Callable[[str], None]) -> str | None:
    """The runtime every step runs under (recorded, so that resume reuses it); refused when the engine lacks it."""
    chosen = backend.check_runtime(runtime)
    if chosen == "runsc":
        notify("notice: steps run under gVisor (runsc): a user-space kernel between each agent and the host")
    return chosen


def warn_about_reduced_controls(backend: SandboxBackend, notify: Callable[[str], None]) -> None:
    """Once per run, when the backend cannot give every control (SECURITY.md)."""
    missing = backend.capabilities().reduced_controls
    if missing:
        notify(
            f"warning: this engine cannot give every sandbox control: {'; '.join(missing)}. "
            "See `wave-sandbox doctor` and SECURITY.md"
        )


def remove_leftovers_of_dead_runs(backend: SandboxBackend, notify: Callable[[str], None]) -> None:
    """The third cleanup net, cast on every start: what crashed runs left, never a live run's.

    It may run while the starting run's environment is made: a socket folder whose owner file is not
    written yet is left alone, and once written it names this live process, so whatever of the starting
    run the sweep sees, it sees alive.
    """
    report = backend.clean_dead_runs(kept_run_ids())  # alive = its owner (pid + start time) still runs
    if report.removed_anything:
        notify(f"notice: cleaned up after earlier crashed runs: {report.summary()}")
