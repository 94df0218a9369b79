"""How a step's agent ended: the JSON line it prints last on stdout, and its exit code (a contract).

    {"final_text": str, "summary": str, "turns": int,
     "stop_reason": "end_turn" | "max_turns" | "timeout" | "error", "error": str | null}
"""

from __future__ import annotations

import json
from dataclasses import dataclass

STOP_END_TURN = "end_turn"
STOP_MAX_TURNS = "max_turns"
STOP_TIMEOUT = "timeout"
STOP_ERROR = "error"

EXIT_FINISHED = 0
EXIT_AGENT_CRASHED = 1
EXIT_BAD_STEP_FILE = 2
EXIT_MODEL_ERROR = 3
EXIT_TIMEOUT = 4
EXIT_CODE_BY_STOP_REASON = {
    STOP_END_TURN: EXIT_FINISHED,
    STOP_MAX_TURNS: EXIT_FINISHED,
    STOP_ERROR: EXIT_MODEL_ERROR,
    STOP_TIMEOUT: EXIT_TIMEOUT,
}


@dataclass(frozen=True)
class AgentResult:
    """The outcome of the tool loop."""

    stop_reason: str
    turns: int
    final_text: str = ""
    error: str | None = None

    @property
    def summary(self) -> str:
        """The first non-empty line of the final text: the step's one-line summary on the console."""
        return next((line.strip() for line in self.final_text.splitlines() if line.strip()), "")

    @property
    def exit_code(self) -> int:
        return EXIT_CODE_BY_STOP_REASON[self.stop_reason]

    def to_json_line(self) -> str:
        # ASCII-only JSON survives any locale the container's stdout may have.
        return json.dumps(
            {
                "final_text": self.final_text,
                "summary": self.summary,
                "turns": self.turns,
                "stop_reason": self.stop_reason,
                "error": self.error,
            }
        )


def failed_before_start(error: str) -> AgentResult:
    """The result printed when the agent cannot even begin (bad step file, crash)."""
    return AgentResult(stop_reason=STOP_ERROR, turns=0, error=error)
