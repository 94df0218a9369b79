"""What-if experiments for `profile_run.py --experiment NAME`: a proposed speed-up, patched into the
profiled process only, so its gain is measured before anyone changes wave-sandbox itself.

    agent-fast-exit   the agent leaves with os._exit after flushing its result, skipping the
                      interpreter's teardown of the anthropic SDK's modules (about 0.7 s per step)
    agent-gc-freeze   the gentler form: gc.freeze() right after `import anthropic`, so the final
                      garbage collection at exit skips the SDK's objects (exit 690 ms -> 40 ms)
    min-one-cpu       every container gets at least one CPU (personas at 0.5 CPU import the SDK in
                      twice the time)
    mkdir-in-agent-exec  the artifact folders are made by the same exec that starts the agent
                      (`sh -c 'mkdir -p ... && exec python3 -m wave_sandbox.agent ...'`), one exec less
    async-destroy     a step's container is removed on a background thread (the run's teardown waits
                      for those removals before it removes the network)
    cli-fast-exit     the CLI process leaves with os._exit once the run is over and its output flushed
"""

from __future__ import annotations

import shlex
import threading
from concurrent.futures import Future, ThreadPoolExecutor

FAST_EXIT_AGENT = [
    "python3", "-c",
    "import os, sys\n"
    "from wave_sandbox.agent.entrypoint import main\n"
    "code = main(sys.argv[1:])\n"
    "sys.stdout.flush(); sys.stderr.flush()\n"
    "os._exit(code)\n",
    "/wave/step.json",
]  # fmt: skip
GC_FREEZE_AGENT = [
    "python3", "-c",
    "import gc, sys\n"
    "import anthropic\n"
    "gc.freeze()\n"
    "from wave_sandbox.agent.entrypoint import main\n"
    "sys.exit(main(sys.argv[1:]))\n",
    "/wave/step.json",
]  # fmt: skip
EXPERIMENTS = (
    "agent-fast-exit", "agent-gc-freeze", "min-one-cpu", "mkdir-in-agent-exec", "async-destroy", "cli-fast-exit",
)  # fmt: skip


def apply_experiments(names: list[str]) -> None:
    for name in names:
        {
            "agent-fast-exit": agent_fast_exit,
            "agent-gc-freeze": agent_gc_freeze,
            "min-one-cpu": min_one_cpu,
            "mkdir-in-agent-exec": mkdir_in_agent_exec,
            "async-destroy": async_destroy,
            "cli-fast-exit": lambda: None,  # applied by profile_run.run_child when it leaves
        }[name]()


def agent_fast_exit() -> None:
    from wave_sandbox.engine import step_execution

    step_execution.AGENT_COMMAND = FAST_EXIT_AGENT


def agent_gc_freeze() -> None:
    from wave_sandbox.engine import step_execution

    step_execution.AGENT_COMMAND = GC_FREEZE_AGENT


def min_one_cpu() -> None:
    from wave_sandbox.sandbox import docker_sandbox

    original = docker_sandbox.host_config_arguments

    def at_least_one_cpu(*args, **kwargs):
        arguments = original(*args, **kwargs)
        arguments["nano_cpus"] = max(arguments["nano_cpus"], 1_000_000_000)
        return arguments

    docker_sandbox.host_config_arguments = at_least_one_cpu


def mkdir_in_agent_exec() -> None:
    from wave_sandbox.sandbox.docker_sandbox import WORKSPACE_DIR, DockerSandbox

    pending: dict[str, list[str]] = {}
    original_exec = DockerSandbox.exec

    def remember_dirs(self, handle, workspace_dirs) -> None:
        pending[handle.container_id] = [f"{WORKSPACE_DIR}/{'/'.join(parts)}" for parts in workspace_dirs]

    def exec_with_mkdir(self, handle, argv, timeout_s):
        folders = pending.pop(handle.container_id, [])
        if folders:
            script = f"mkdir -p -- {shlex.join(folders)} && exec \"$@\""
            argv = ["/bin/sh", "-c", script, "wave-sandbox-agent", *argv]
        return original_exec(self, handle, argv, timeout_s)

    DockerSandbox._make_workspace_dirs = remember_dirs
    DockerSandbox.exec = exec_with_mkdir


def async_destroy() -> None:
    from wave_sandbox.engine.infrastructure import RunInfrastructure
    from wave_sandbox.sandbox.docker_sandbox import DockerSandbox

    removals = ThreadPoolExecutor(max_workers=4, thread_name_prefix="destroy")
    futures: list[Future] = []
    lock = threading.Lock()
    original_destroy, original_stop = DockerSandbox.destroy, RunInfrastructure.stop

    def destroy_in_background(self, handle) -> None:
        with lock:
            futures.append(removals.submit(original_destroy, self, handle))

    def stop_after_removals(self, keep: bool):
        with lock:
            waiting = list(futures)
        for future in waiting:
            future.exception()
        return original_stop(self, keep)

    DockerSandbox.destroy = destroy_in_background
    RunInfrastructure.stop = stop_after_removals
