"""Wave's gate steps on the host: human approval (terminal, `--approve`, `--auto-approve`) and timers.

Semantics of internal/pipeline/gate.go: `auto: true` takes the default choice (else the first);
a gate with choices, a default and a timeout takes the default when the time runs out; a timer waits.
Unattended (no terminal) and not approved, an approval gate is refused at once with one line naming
the flags, rather than hanging a CI job. `pr_merge` and `ci_pass` poll a forge over the network and
are refused by `validate`. Waiting never blocks a Ctrl-C: every wait watches the run's stop event.
"""

from __future__ import annotations

import select
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, TextIO

from wave_sandbox.errors import CompositionError
from wave_sandbox.spec.composition import GateChoice, GateConfig, parse_duration
from wave_sandbox.text_safety import printable_text

DEFAULT_APPROVAL_TIMEOUT_S = 3600.0
"""How long a terminal prompt waits when the gate names no timeout (Wave's default gate timeout)."""


@dataclass
class GateSettings:
    """How this run answers approval gates."""

    approve: frozenset[str] = frozenset()
    """--approve STEP (a gate's id, or its id inside a sub-pipeline)."""
    auto_approve: bool = False
    """--auto-approve: every approval gate takes its default choice."""
    approve_reason: str | None = None
    """Approve every gate for this reason (the mock model), with a notice."""
    interactive: bool = field(default_factory=lambda: sys.stdin.isatty() and sys.stderr.isatty())
    stdin: TextIO = sys.stdin
    prompt_stream: TextIO = sys.stderr


@dataclass
class GateDecision:
    message: str
    choice: GateChoice | None = None

    @property
    def target(self) -> str | None:
        return self.choice.target if self.choice else None


class GateKeeper:
    """Resolves one gate step at a time (gates of parallel branches take turns at the terminal)."""

    def __init__(self, settings: GateSettings, stopping: threading.Event, notify: Callable[[str], None]):
        self.settings = settings
        self.stopping = stopping
        self.notify = notify
        self._terminal = threading.Lock()

    def resolve(self, step_id: str, local_id: str, gate: GateConfig, waiting: Callable[[str], None]) -> GateDecision:
        if gate.type == "timer":
            return self._timer(gate, waiting)
        return self._approval(step_id, local_id, gate, waiting)

    def _timer(self, gate: GateConfig, waiting: Callable[[str], None]) -> GateDecision:
        seconds = parse_duration(gate.timeout or "0s")
        waiting(gate.message or f"timer: waiting {gate.timeout}")
        self._wait(seconds)
        return GateDecision(f"timer elapsed after {gate.timeout}")

    def _approval(self, step_id: str, local_id: str, gate: GateConfig, waiting: Callable[[str], None]) -> GateDecision:
        default = gate.default_choice()
        named = {step_id, local_id} & self.settings.approve
        if named or self.settings.auto_approve:
            how = f"--approve {sorted(named)[0]}" if named else "--auto-approve"
            return GateDecision(f"approved by {how}{_chosen(default)}", default)
        if gate.auto:
            return GateDecision(f"auto-approved (auto: true){_chosen(default)}", default)
        if self.settings.approve_reason:
            self.notify(f"notice: gate {step_id} approved: {self.settings.approve_reason}")
            return GateDecision(f"approved: {self.settings.approve_reason}{_chosen(default)}", default)
        waiting(printable_text(gate.prompt or gate.message or "waiting for approval").strip().splitlines()[0])
        if self.settings.interactive:
            return self._ask(step_id, gate, default)
        if default is not None and gate.timeout:
            self._wait(parse_duration(gate.timeout))
            return GateDecision(f"no answer within {gate.timeout}; took the default{_chosen(default)}", default)
        raise CompositionError(
            f"gate {step_id} needs approval and no terminal is attached; "
            f"pass --approve {local_id} or --auto-approve to approve it unattended"
        )

    def _ask(self, step_id: str, gate: GateConfig, default: GateChoice | None) -> GateDecision:
        timeout = parse_duration(gate.timeout) if gate.timeout else DEFAULT_APPROVAL_TIMEOUT_S
        with self._terminal:
            self._show_question(step_id, gate)
            answer = self._read_line(timeout)
        if answer is None:
            if default is None:
                raise CompositionError(f"gate {step_id}: no answer within {timeout:g}s")
            return GateDecision(f"no answer; took the default{_chosen(default)}", default)
        return self._decide(step_id, gate, answer.strip(), default)

    def _show_question(self, step_id: str, gate: GateConfig) -> None:
        stream = self.settings.prompt_stream
        print(printable_text(f"gate {step_id}: {gate.prompt or gate.message or 'approve?'}"), file=stream)
        for choice in gate.choices:
            print(printable_text(f"  [{choice.key}] {choice.label}"), file=stream)
        print("answer (a choice key, or y/n): " if gate.choices else "approve? [y/N]: ", end="", file=stream, flush=True)

    def _decide(self, step_id: str, gate: GateConfig, answer: str, default: GateChoice | None) -> GateDecision:
        choice = next((c for c in gate.choices if c.key == answer), None)
        if choice is not None:
            return GateDecision(f"answered at the terminal{_chosen(choice)}", choice)
        if answer.lower() in ("y", "yes"):
            return GateDecision(f"approved at the terminal{_chosen(default)}", default)
        raise CompositionError(f"gate {step_id} was not approved at the terminal")

    def _read_line(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping.is_set():
            readable, _, _ = select.select([self.settings.stdin], [], [], 0.25)
            if readable:
                return self.settings.stdin.readline()
        self._raise_if_stopping()
        return None

    def _wait(self, seconds: float) -> None:
        self.stopping.wait(seconds)
        self._raise_if_stopping()

    def _raise_if_stopping(self) -> None:
        if self.stopping.is_set():
            raise CompositionError("interrupted while waiting at a gate")


def _chosen(choice: GateChoice | None) -> str:
    return f": {choice.label} ({choice.key})" if choice else ""
