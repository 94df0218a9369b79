"""Wave's preflight: the commands a pipeline's `requires.tools` names must be in the agent image.

Checked before the first step, in a container of the run's own image with no network and no mounts
(as Wave checks PATH before it starts), so a pipeline that needs `gh` fails at once with one line
naming what is missing, instead of deep inside a step. A sub-pipeline's own `requires` is checked
when it starts, as Wave's child executor does, and fails the step that called it; each set of tools
is looked for once per run.
"""

from __future__ import annotations

import re
import threading
from typing import Callable

from wave_sandbox.engine.step_execution import CONTAINER_HOME, CONTAINER_PATH, StepContext
from wave_sandbox.sandbox.backend import ContainerSpec

PREFLIGHT_STEP = "wave-preflight"
PLAIN_COMMAND = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
# Found = an executable on PATH, as Wave's exec.LookPath finds it: a shell builtin (cd, exit) is not one.
CHECK = 'for tool in "$@"; do case "$(command -v "$tool" 2>/dev/null)" in /*) ;; *) echo "$tool" ;; esac; done'
MAX_NAMED = 10
"""Missing tools a preflight line names; past that it counts the rest."""


def required_tools(pipeline) -> list[str]:
    requires = pipeline.requires if isinstance(pipeline.requires, dict) else {}
    tools = requires.get("tools")
    return [tool for tool in tools if isinstance(tool, str)] if isinstance(tools, list) else []


def missing_tools(context: StepContext, tools: list[str]) -> list[str]:
    """The tools not found on the agent image's PATH (a name that is no plain command counts as missing)."""
    odd = [tool for tool in tools if not PLAIN_COMMAND.match(tool)]
    plain = [tool for tool in tools if PLAIN_COMMAND.match(tool)]
    if not plain:
        return odd
    spec = ContainerSpec(
        run_id=context.run_id, step_id=PREFLIGHT_STEP, image=context.image, network=None, user=context.user,
        environment={"HOME": CONTAINER_HOME, "PATH": CONTAINER_PATH}, lifetime_s=90, runtime=context.runtime,
    )
    handle = context.sandbox.create(spec)
    try:
        result = context.sandbox.exec(handle, ["sh", "-c", CHECK, "preflight", *plain], timeout_s=60)
    finally:
        context.sandbox.destroy(handle)
    found_missing = result.stdout.decode("utf-8", "replace").split()
    return odd + [tool for tool in plain if tool in found_missing or result.exit_code != 0]


def preflight_message(missing: list[str]) -> str:
    named = ", ".join(missing[:MAX_NAMED]) + (f" and {len(missing) - MAX_NAMED} more" if len(missing) > MAX_NAMED else "")
    return (f"preflight: requires.tools {named} not found in the agent image "
            "(Wave's preflight checks them before a pipeline starts)")


class Preflight:
    """The missing tools of each pipeline's `requires.tools`, looked for once per set of tools in a run."""

    def __init__(self, context_of: Callable[[], StepContext]) -> None:
        self._context_of = context_of
        self._missing: dict[tuple[str, ...], list[str]] = {}
        self._lock = threading.Lock()

    def missing_for(self, pipeline) -> list[str]:
        tools = tuple(required_tools(pipeline))
        if not tools:
            return []
        with self._lock:  # one check per set, even when iterate items start the same child at once
            if tools not in self._missing:
                self._missing[tools] = missing_tools(self._context_of(), list(tools))
            return self._missing[tools]
