"""What a running step is doing, read from its transcript as the gateway appends to it.

The gateway writes one JSON line per model exchange when the response ends, so the latest line names
the tool call the model just asked for (while the tool runs) and the tokens spent so far. The watcher
is an event listener placed in front of a display: it forwards every event and, between them, adds an
`activity` event when a running step's transcript gains an exchange and a `heartbeat` event for each
running step every `heartbeat_s`. The transcript is read as data; the text it yields is the model's
and is shown through the sanitizer by the displays.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from wave_sandbox.engine import events as ev
from wave_sandbox.engine.events import RunEvent

ACTIVITY_MAX_CHARS = 120
READ_CHUNK_BYTES = 1024 * 1024
TOOL_DETAIL_KEYS = ("command", "path", "pattern", "query")


def tool_call_text(name: str, arguments: Any) -> str:
    """`bash: pytest -q`, `read_file src/db.py`: the tool and the argument that says most about it."""
    detail = ""
    if isinstance(arguments, dict):
        detail = next((str(arguments[key]) for key in TOOL_DETAIL_KEYS if isinstance(arguments.get(key), str)), "")
    separator = ": " if name == "bash" else " "
    text = f"{name}{separator}{' '.join(detail.split())}" if detail else name
    return text if len(text) <= ACTIVITY_MAX_CHARS else text[: ACTIVITY_MAX_CHARS - 1] + "…"


def exchange_activity(exchange: Any) -> str | None:
    """The last tool call of one transcript line's response (a message or streamed events), or
    `answering` for a response without one; None when the line holds no response."""
    response = exchange.get("response") if isinstance(exchange, dict) else None
    if isinstance(response, dict) and isinstance(response.get("content"), list):
        calls = [block for block in response["content"] if isinstance(block, dict) and block.get("type") == "tool_use"]
        return tool_call_text(str(calls[-1].get("name", "?")), calls[-1].get("input")) if calls else "answering"
    if isinstance(response, list):
        return _streamed_activity(response)
    return None


def _streamed_activity(records: list) -> str:
    calls = [block for block in streamed_content(records) if block["type"] == "tool_use"]
    return tool_call_text(calls[-1]["name"], calls[-1]["input"]) if calls else "answering"


def streamed_content(records: list) -> list[dict]:
    """A streamed response's content blocks, assembled from its events: `{"type": "text", "text"}` and
    `{"type": "tool_use", "name", "input"}` (the input {} when its JSON does not parse), in index order."""
    blocks: dict[int, dict] = {}
    for record in records:
        data = record.get("data") if isinstance(record, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("index", 0), int):
            continue
        index, block, delta = data.get("index", 0), data.get("content_block"), data.get("delta")
        if data.get("type") == "content_block_start" and isinstance(block, dict):
            if block.get("type") == "tool_use":
                blocks[index] = {"type": "tool_use", "name": str(block.get("name", "?")), "json": ""}
            elif block.get("type") == "text":
                blocks[index] = {"type": "text", "text": str(block.get("text") or "")}
        elif data.get("type") == "content_block_delta" and isinstance(delta, dict) and index in blocks:
            key = "json" if blocks[index]["type"] == "tool_use" else "text"
            blocks[index][key] += str(delta.get("partial_json" if key == "json" else "text", ""))
    return [_tool_input_parsed(blocks[index]) for index in sorted(blocks)]


def _tool_input_parsed(block: dict) -> dict:
    if block["type"] != "tool_use":
        return block
    try:
        arguments = json.loads(block.pop("json") or "{}")
    except (ValueError, RecursionError):  # the model's own text: 100 000 `[` would end the watcher's thread
        arguments = {}
    return {**block, "input": arguments}


def exchange_tokens(exchange: Any) -> tuple[int, int]:
    """(input, output) tokens of one exchange; cache reads and writes count as input."""
    usage = exchange.get("usage") if isinstance(exchange, dict) else None
    if not isinstance(usage, dict):
        return 0, 0
    counts = {key: value for key, value in usage.items() if isinstance(value, int) and not isinstance(value, bool)}
    output = counts.get("output_tokens", 0)
    return sum(value for key, value in counts.items() if key.endswith("tokens") and key != "output_tokens"), output


@dataclass
class TranscriptTail:
    """The complete lines appended to one transcript since the last read."""

    path: Path
    offset: int = 0
    partial: bytes = b""

    def new_lines(self) -> list[bytes]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read(READ_CHUNK_BYTES)
        except OSError:
            return []
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        return [line for line in lines if line.strip()]


@dataclass
class RunningStep:
    step_id: str
    persona: str | None
    started: float
    tail: TranscriptTail
    tokens_in: int = 0
    tokens_out: int = 0
    activity: str = "starting"
    beat: float = field(default_factory=time.monotonic)


class ActivityWatcher:
    """Forwards every run event to `forward`, adding activity and heartbeat events of running steps."""

    def __init__(self, steps_folder: Callable[[str], Path], forward: Callable[[RunEvent], None],
                 poll_s: float = 0.5, heartbeat_s: float = 10.0):
        self.steps_folder, self.forward = steps_folder, forward
        self.poll_s, self.heartbeat_s = poll_s, heartbeat_s
        self.running: dict[str, RunningStep] = {}
        self.lock = threading.RLock()
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None
        self.run: tuple[str, str] | None = None

    def __call__(self, event: RunEvent) -> None:
        with self.lock:
            self._track(event)
            self.forward(event)
        if event.state in ev.RUN_END_STATES:
            self.close()

    def _track(self, event: RunEvent) -> None:
        self.run = (event.run_id, event.pipeline)
        if event.state == ev.STEP_STARTED and event.step_id:
            transcript = self.steps_folder(event.run_id) / event.step_id / "transcript.jsonl"
            self.running[event.step_id] = RunningStep(event.step_id, event.persona, time.monotonic(),
                                                      TranscriptTail(transcript, _size(transcript)))
            self._start_thread()
        elif event.step_id in self.running and event.state not in ev.LIVE_STATES:
            del self.running[event.step_id]

    def _start_thread(self) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._watch, name="step-activity", daemon=True)
            self.thread.start()

    def close(self) -> None:
        self.stopped.set()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout=5)

    def _watch(self) -> None:
        while not self.stopped.wait(self.poll_s):
            with self.lock:
                for step in list(self.running.values()):
                    self._look(step)

    def _look(self, step: RunningStep) -> None:
        latest = None
        for line in step.tail.new_lines():
            try:
                exchange = json.loads(line)
            except (ValueError, RecursionError):
                continue
            spent_in, spent_out = exchange_tokens(exchange)
            step.tokens_in, step.tokens_out = step.tokens_in + spent_in, step.tokens_out + spent_out
            latest = exchange_activity(exchange) or latest
        now = time.monotonic()
        if latest is not None:
            step.activity = latest
            self._emit(ev.STEP_ACTIVITY, step, now)
        elif now - step.beat >= self.heartbeat_s:
            self._emit(ev.HEARTBEAT, step, now)

    def _emit(self, state: str, step: RunningStep, now: float) -> None:
        step.beat = now
        run_id, pipeline = self.run or ("", "")
        self.forward(RunEvent(state, run_id, pipeline, step_id=step.step_id, persona=step.persona,
                              duration_ms=int((now - step.started) * 1000), tokens_in=step.tokens_in,
                              tokens_out=step.tokens_out,
                              activity=step.activity))


def _size(path: Path) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
