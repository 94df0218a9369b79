"""`--model mock`: a built-in model that writes every declared artifact of a step, then ends its turn.

It needs no script: before a step starts, the engine hands it the files that step must leave (their
content generated on the host so that the step's contracts pass: `contracts.mock_content`), with
`plan_step`. Each request is then answered from the conversation itself, so a retry (a new conversation)
is answered the same way:
- the last message carries no tool result: one turn of `write_file` calls, one per file (or `bash`
  calls writing base64 when the persona lacks `write_file`);
- otherwise: a text turn naming the files, which ends the step.
Requests are checked as strictly as the real API checks them, and answered through the same message
and SSE builders as the scripted model, so a mock run goes through the real gateway, SDK and agent.
"""

from __future__ import annotations

import base64
import shlex
import threading
from typing import Any

from wave_sandbox.gateway.request_checks import find_request_problem
from wave_sandbox.gateway.script_file import ScriptedTurn
from wave_sandbox.gateway.scripted import build_message, estimate_tokens, request_text
from wave_sandbox.gateway.sse import encode_sse_event, message_stream_events
from wave_sandbox.gateway.upstream import (
    COUNT_TOKENS_PATH,
    UpstreamRequest,
    UpstreamResponse,
    error_response,
    json_response,
    new_request_id,
)

__all__ = ["MOCK_MODEL_ID", "MockUpstream", "mock_turn"]

MOCK_MODEL_ID = "mock"
MOCK_SUMMARY = "Mock step: wrote {count} stub artifact(s) (--model mock; no real model was called)"


def _last_message_has_tool_results(payload: dict[str, Any]) -> bool:
    messages = payload.get("messages") or []
    content = messages[-1].get("content") if messages and isinstance(messages[-1], dict) else None
    return isinstance(content, list) and any(
        isinstance(block, dict) and block.get("type") == "tool_result" for block in content
    )


def _offered_tools(payload: dict[str, Any]) -> set[str]:
    return {tool.get("name") for tool in payload.get("tools") or () if isinstance(tool, dict)}


def _write_call(path: str, content: str, tools: set[str]) -> dict[str, Any] | None:
    if "write_file" in tools:
        return {"type": "tool_use", "name": "write_file", "input": {"path": path, "content": content}}
    if "bash" in tools:
        encoded = base64.b64encode(content.encode("utf-8")).decode("ascii")
        folder = path.rsplit("/", 1)[0] if "/" in path else "."
        command = f"mkdir -p {shlex.quote(folder)} && printf %s {encoded} | base64 -d > {shlex.quote(path)}"
        return {"type": "tool_use", "name": "bash", "input": {"command": command}}
    return None


def mock_turn(files: dict[str, str], payload: dict[str, Any]) -> ScriptedTurn:
    """The mock's answer to `payload` for a step that must write `files` (path -> content)."""
    if files and not _last_message_has_tool_results(payload):
        tools = _offered_tools(payload)
        calls = [call for path, content in files.items() if (call := _write_call(path, content, tools))]
        if calls:
            return ScriptedTurn(content=({"type": "text", "text": "Writing the declared artifacts (mock)"}, *calls))
    return ScriptedTurn(content=({"type": "text", "text": MOCK_SUMMARY.format(count=len(files))},))


class MockUpstream:
    """Answers every step from the files the engine planned for it; thread-safe, one per run."""

    is_mock = True

    def __init__(self) -> None:
        self.description = "the built-in mock model (stub artifacts, no real model)"
        self.secrets: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self._files: dict[str, dict[str, str]] = {}

    def plan_step(self, step_id: str, files: dict[str, str]) -> None:
        """The files (path relative to /workspace -> text) the step's turns will write."""
        with self._lock:
            self._files[step_id] = dict(files)

    def send(self, request: UpstreamRequest) -> UpstreamResponse:
        counting = request.path == COUNT_TOKENS_PATH
        problem = find_request_problem(request.payload, needs_max_tokens=not counting)
        if problem is not None:
            return error_response(400, "invalid_request_error", problem)
        if counting:
            return json_response(200, {"input_tokens": estimate_tokens(request_text(request.payload))})
        with self._lock:
            files = self._files.get(request.step_id, {})
        message = build_message(mock_turn(files, request.payload), request.payload)
        if not request.payload.get("stream"):
            return json_response(200, message)
        headers = [("content-type", "text/event-stream; charset=utf-8"), ("cache-control", "no-cache"),
                   ("request-id", new_request_id())]
        chunks = (encode_sse_event(name, data) for name, data in message_stream_events(message))
        return UpstreamResponse(200, headers, chunks=chunks)
