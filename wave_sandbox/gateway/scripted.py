"""The scripted model: an upstream that answers every request itself from a script file.

Each step's turns are used in order across all of that step's well-formed requests; a step without
a script, or whose script is used up, answers "Done". Requests are checked as strictly as the real
API checks them, and streamed requests get the same SSE events the real API sends, so an agent that
works against this model works against the real one.

Usage is reported as the API reports it: the request's ``cache_control`` breakpoints are played
against a prompt cache with the provider's rules (``prompt_cache``), so ``input_tokens`` counts only
the uncached tokens beside ``cache_creation_input_tokens`` and ``cache_read_input_tokens``. With the
script's optional ``context_window``, a request whose prompt is longer is answered with the API's own
400 ``prompt is too long: N tokens > W maximum``.
"""

from __future__ import annotations

import json
import secrets
import threading
from typing import Any

from wave_sandbox.gateway.prompt_cache import CacheCounts, PromptCache, prefix_points
from wave_sandbox.gateway.request_checks import find_request_problem
from wave_sandbox.gateway.script_file import Script, ScriptedTurn
from wave_sandbox.gateway.sse import encode_sse_event, message_stream_events
from wave_sandbox.gateway.upstream import (
    COUNT_TOKENS_PATH,
    UpstreamRequest,
    UpstreamResponse,
    error_response,
    json_response,
    new_request_id,
)

__all__ = ["ScriptedUpstream", "DONE_TURN", "estimate_tokens", "request_text", "build_message"]

DONE_TURN = ScriptedTurn(content=({"type": "text", "text": "Done"},))
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _api_style_id(prefix: str) -> str:
    """An id shaped like the real API's (``toolu_01`` + 22 base62 characters)."""
    return prefix + "01" + "".join(secrets.choice(_BASE62) for _ in range(22))


def estimate_tokens(text: str) -> int:
    """About one token per four characters, never zero."""
    return max(1, (len(text) + 3) // 4)


def _block_text(block: dict[str, Any]) -> str:
    """The text a content block carries (tool calls count as their name and JSON input)."""
    if block.get("type") == "tool_use":
        return str(block.get("name", "")) + json.dumps(block.get("input", {}), ensure_ascii=False)
    if block.get("type") == "tool_result":
        return _content_text(block.get("content", ""))
    return str(block.get("text", ""))


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(_block_text(block) for block in content if isinstance(block, dict))


def request_text(payload: dict[str, Any]) -> str:
    """The text a request gives the model: system prompt, message contents and tool definitions."""
    messages = "".join(_content_text(message.get("content", "")) for message in payload.get("messages", ()))
    tools = json.dumps(payload["tools"], ensure_ascii=False) if payload.get("tools") else ""
    return _content_text(payload.get("system") or "") + messages + tools


def build_message(turn: ScriptedTurn, payload: dict[str, Any], counts: CacheCounts | None = None) -> dict[str, Any]:
    """The Messages API response for ``turn``, answering ``payload`` (whose input ``counts`` split as billed)."""
    counts = counts or CacheCounts(estimate_tokens(request_text(payload)), 0, 0)
    content = [
        dict(block, id=_api_style_id("toolu_")) if block["type"] == "tool_use" else dict(block) for block in turn.content
    ]
    calls_tool = any(block["type"] == "tool_use" for block in content)
    output_text = "".join(_block_text(block) for block in content)
    return {
        "id": _api_style_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": payload["model"],
        "content": content,
        "stop_reason": "tool_use" if calls_tool else "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": counts.input_tokens,
            "output_tokens": estimate_tokens(output_text),
            "cache_creation_input_tokens": counts.cache_creation_input_tokens,
            "cache_read_input_tokens": counts.cache_read_input_tokens,
        },
    }


def _prompt_tokens(payload: dict[str, Any]) -> int:
    """The request's input tokens, counted block by block as the prompt cache counts them."""
    points = prefix_points(payload)
    return points[-1].tokens if points else 1


def _stream_response(message: dict[str, Any]) -> UpstreamResponse:
    headers = [
        ("content-type", "text/event-stream; charset=utf-8"),
        ("cache-control", "no-cache"),
        ("request-id", new_request_id()),
    ]
    chunks = (encode_sse_event(name, data) for name, data in message_stream_events(message))
    return UpstreamResponse(200, headers, chunks=chunks)


class ScriptedUpstream:
    """Answers from a ``Script``; one instance serves every step of a run, thread-safely."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.description = f"the offline scripted model from {script.path}"
        self.secrets: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self._turns_used: dict[str, int] = {}
        self.prompt_cache = PromptCache()

    def next_turn(self, step_id: str) -> ScriptedTurn:
        """The step's next unused turn (consumed), or the "Done" turn when none is left."""
        turns = self.script.steps.get(step_id, ())
        with self._lock:
            used = self._turns_used.get(step_id, 0)
            self._turns_used[step_id] = used + 1
        return turns[used] if used < len(turns) else DONE_TURN

    def send(self, request: UpstreamRequest) -> UpstreamResponse:
        """Check the request like the real API, then answer it with the step's next turn."""
        counting = request.path == COUNT_TOKENS_PATH
        problem = find_request_problem(request.payload, needs_max_tokens=not counting)
        if problem is not None:
            return error_response(400, "invalid_request_error", problem)
        prompt_tokens = _prompt_tokens(request.payload)
        if counting:
            return json_response(200, {"input_tokens": prompt_tokens})
        window = self.script.context_window
        if window is not None and prompt_tokens > window:
            too_long = f"prompt is too long: {prompt_tokens} tokens > {window} maximum"
            return error_response(400, "invalid_request_error", too_long)
        turn = self.next_turn(request.step_id)
        # Waiting on the event, not sleeping, lets a stopping gateway end the delay at once.
        if turn.delay_s and request.cancelled.wait(turn.delay_s):
            return error_response(503, "api_error", "wave-sandbox gateway is stopping; the run is ending")
        message = build_message(turn, request.payload, self.prompt_cache.account(request.payload))
        return _stream_response(message) if request.payload.get("stream") else json_response(200, message)
