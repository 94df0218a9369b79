"""Shared helpers of the gateway tests: scripts on disk, started gateways, real SDK clients."""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import anthropic
import pytest

from wave_sandbox.gateway import Budget, Gateway
from wave_sandbox.gateway.script_file import load_script
from wave_sandbox.gateway.scripted import ScriptedUpstream

BASH_TOOL = {
    "name": "bash",
    "description": "Run a shell command",
    "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
}


def write_script(folder: Path, text: str, name: str = "script.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def start_gateway(tmp_path) -> Iterator[Callable[..., Gateway]]:
    """Starts gateways on 127.0.0.1 (a scripted one from script text, or any upstream); stops them after."""
    started: list[Gateway] = []

    def start(script_text: str = "steps: {}\n", upstream=None, run_budget: Budget = Budget(), **options) -> Gateway:
        if upstream is None:
            upstream = ScriptedUpstream(load_script(write_script(tmp_path, script_text, f"script{len(started)}.yaml")))
        gateway = Gateway(upstream, "127.0.0.1", run_budget=run_budget, **options)
        gateway.start()
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


@functools.cache
def shared_http_client() -> anthropic.DefaultHttpxClient:
    # Building an HTTP client loads the CA bundle (~0.1 s); one for the whole session keeps the suite fast.
    return anthropic.DefaultHttpxClient()


def sdk_client(gateway: Gateway, token: str, max_retries: int = 0) -> anthropic.Anthropic:
    """The real anthropic SDK pointed at the gateway; no client-side retries unless asked, so a call is one request."""
    return anthropic.Anthropic(
        api_key=token, base_url=gateway.base_url, max_retries=max_retries, timeout=10, http_client=shared_http_client()
    )


def user_says(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def answer_tools(messages: list[dict], message, results: dict[str, str] | None = None) -> list[dict]:
    """The conversation continued as an agent would: the assistant turn, then a result per tool call."""
    assistant = {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in message.content]}
    calls = [block for block in message.content if block.type == "tool_use"]
    results = results or {}
    answers = [{"type": "tool_result", "tool_use_id": call.id, "content": results.get(call.id, "ok")} for call in calls]
    return messages + [assistant, {"role": "user", "content": answers}]
