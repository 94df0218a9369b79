"""`python3 -m wave_sandbox.agent /wave/step.json`: run one step inside its container.

stdout carries exactly one line, the result JSON (see result.py); everything else goes to stderr.
Exit codes: 0 end_turn or max_turns, 2 bad step file or usage, 3 model/API error, 4 timeout,
1 the agent itself crashed (a bug; the traceback is on stderr).
"""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

from wave_sandbox.agent.progress import ProgressLog
from wave_sandbox.agent.result import EXIT_AGENT_CRASHED, EXIT_BAD_STEP_FILE, AgentResult, failed_before_start
from wave_sandbox.agent.step_file import StepFileError, load_step_file

USAGE = "usage: python3 -m wave_sandbox.agent STEP_JSON"


def main(argv: list[str] | None = None) -> int:
    started_at = time.monotonic()
    arguments = sys.argv[1:] if argv is None else argv
    if len(arguments) != 1:
        return refuse_to_start(f"{USAGE} (got {len(arguments)} arguments)")
    try:
        step = load_step_file(Path(arguments[0]))
    except StepFileError as exc:
        return refuse_to_start(str(exc))
    try:
        # Imported only now: it loads the anthropic SDK (seconds), not worth it for a bad step file.
        from wave_sandbox.agent.loop import run_step

        result = run_step(step, ProgressLog(started_at), started_at)
    except Exception as exc:  # a bug in the agent: still leave a result line the runner can read
        traceback.print_exc(file=sys.stderr)
        emit_result(failed_before_start(f"agent crashed: {exc.__class__.__name__}: {exc}"))
        return EXIT_AGENT_CRASHED
    emit_result(result)
    return result.exit_code


def refuse_to_start(message: str) -> int:
    print(f"wave-sandbox agent: {message}", file=sys.stderr, flush=True)
    emit_result(failed_before_start(message))
    return EXIT_BAD_STEP_FILE


def emit_result(result: AgentResult) -> None:
    print(result.to_json_line(), flush=True)
