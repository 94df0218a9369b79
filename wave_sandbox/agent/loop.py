"""The Messages API tool loop: ask the model, run the tools it calls, send back the results, repeat.

It stops when the model answers without a tool call (end_turn), after the step's max_turns model
turns (the tools of the last turn still run, so a file it writes there is not lost), when the step's
wall clock runs out (timeout), or when a model request fails for good (error).

A reply cut off at max_tokens is taken as it is: without a tool call it is the final answer; with
tool calls, the last one may have lost the end of its input, so it is answered with an is_error
result asking for a smaller call instead of being run.

Each request marks its stable prefix and latest messages for the prompt cache (``cache_breakpoints``)
and is streamed. Before each request the conversation is kept inside the model's context window
(``context_window``: old tool results cleared, then the earliest turns compacted); when the provider
still says the prompt is too long, the same shrinking runs with the sizes it gave, and the request is
retried.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from wave_sandbox.agent.cache_breakpoints import with_cache_breakpoints
from wave_sandbox.agent.context_window import ContextKeeper, parse_prompt_too_long
from wave_sandbox.agent.deadline import StepTimeout, wall_clock_limit
from wave_sandbox.agent.model_client import (
    MODEL_REQUEST_TIMEOUT_S,
    ModelRequestError,
    PromptTooLongError,
    assistant_content,
    cache_tokens,
    create_model_client,
    model_base_url,
    request_model_turn,
    response_text,
    response_tool_uses,
    usage_tokens,
)
from wave_sandbox.agent.progress import ProgressLog, first_line, preview_tool_input
from wave_sandbox.agent.result import STOP_END_TURN, STOP_ERROR, STOP_MAX_TURNS, STOP_TIMEOUT, AgentResult
from wave_sandbox.agent.step_file import StepDescription
from wave_sandbox.agent.tools import ToolContext, ToolResult, execute_tool, tool_schemas

CUT_OFF_TOOL_CALL_MESSAGE = (
    "not run: your reply reached max_tokens while writing this tool call, so its input may be cut off. "
    "Call it again with less in one call (for example, write a long file in several parts)."
)
PROMPT_TOO_LONG_RETRIES = 3
UNKNOWN_SIZE_SHRINK = 0.8


@dataclass
class LoopState:
    """What the loop has accumulated so far."""

    messages: list[dict]
    turns: int = 0
    final_text: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_written: int = 0
    cache_read: int = 0
    tool_calls: int = 0
    tools_failed: list[str] = field(default_factory=list)


def run_step(step: StepDescription, progress: ProgressLog, started_at: float) -> AgentResult:
    """Run the whole step: create the model client and drive the tool loop to its end."""
    progress.line(
        f"step {step.step_id} ({step.persona}): model {step.model} via {model_base_url()}, "
        f"tools {', '.join(step.tools) or '(none)'}, max {step.max_turns} turns, {step.timeout_s:g} s, "
        f"context window {step.context_window} tokens, workdir {step.workdir}"
    )
    try:
        client = create_model_client()
    except ModelRequestError as exc:
        return AgentResult(stop_reason=STOP_ERROR, turns=0, error=str(exc))
    return ToolLoop(step, client, progress, deadline=started_at + step.timeout_s).run()


class ToolLoop:
    """One step's conversation with the model."""

    def __init__(self, step: StepDescription, client, progress: ProgressLog, deadline: float):
        self.step = step
        self.client = client
        self.progress = progress
        self.deadline = deadline
        self.tool_context = ToolContext(step.workdir, step.tool_output_limit, step.bash_timeout_s, deadline)
        self.state = LoopState(messages=[{"role": "user", "content": step.prompt}])
        self.context = ContextKeeper(step.context_window, step.max_tokens)

    def run(self) -> AgentResult:
        try:
            with wall_clock_limit(self.deadline):
                return self.run_turns()
        except StepTimeout:
            return self.finish(STOP_TIMEOUT, self.timeout_message())
        except ModelRequestError as exc:
            if time.monotonic() >= self.deadline:  # the request failed because the step's time ran out
                return self.finish(STOP_TIMEOUT, self.timeout_message())
            return self.finish(STOP_ERROR, str(exc))

    def timeout_message(self) -> str:
        return f"the step's time limit of {self.step.timeout_s:g} s ran out"

    def run_turns(self) -> AgentResult:
        while self.state.turns < self.step.max_turns:
            response = self.next_response()
            tool_uses = response_tool_uses(response)
            if not tool_uses:
                if response.stop_reason == "max_tokens":
                    self.progress.line(f"reply cut off at max_tokens ({self.step.max_tokens}); it is the final answer")
                return self.finish(STOP_END_TURN)
            results = self.run_tool_calls(tool_uses, cut_off=response.stop_reason == "max_tokens")
            self.state.messages.append({"role": "user", "content": results})
        return self.finish(STOP_MAX_TURNS)

    def next_response(self):
        for attempt in range(PROMPT_TOO_LONG_RETRIES + 1):
            self.keep_within_context()
            request, began = self.build_request(), time.monotonic()
            if began >= self.deadline:
                raise StepTimeout()
            try:
                response = request_model_turn(self.client, with_cache_breakpoints(request),
                                              min(MODEL_REQUEST_TIMEOUT_S, self.deadline - began))  # fmt: skip
            except PromptTooLongError as exc:
                if attempt == PROMPT_TOO_LONG_RETRIES:
                    raise
                self.learn_too_long(request, exc.api_message)
                continue
            self.context.learn(request, usage_tokens(response)[0])
            self.record_response(response, time.monotonic() - began)
            return response
        raise AssertionError("unreachable")

    def keep_within_context(self) -> None:
        shrunk = self.context.fit(self.state.messages, lambda _messages: self.build_request())
        if shrunk is not None:
            self.progress.line(shrunk.describe())

    def learn_too_long(self, request: dict, api_message: str) -> None:
        sizes = parse_prompt_too_long(api_message)
        if sizes is not None:
            self.context.learn_too_long(request, *sizes)
        else:  # no sizes given: aim lower than before
            self.context.context_window = int(self.context.context_window * UNKNOWN_SIZE_SHRINK)
        self.progress.line(f"the model refused the prompt as too long ({api_message}); shrinking it and retrying")

    def build_request(self) -> dict:
        request = {"model": self.step.model, "max_tokens": self.step.max_tokens, "messages": self.state.messages}
        if self.step.temperature is not None:  # this SDK's create() no longer names it; the API still takes it
            request["extra_body"] = {"temperature": self.step.temperature}
        if self.step.system:
            request["system"] = self.step.system
        if self.step.tools:
            request["tools"] = tool_schemas(self.step.tools)
        return request

    def record_response(self, response, duration_s: float) -> None:
        state = self.state
        state.turns += 1
        input_tokens, output_tokens = usage_tokens(response)
        written, read = cache_tokens(response)
        state.input_tokens += input_tokens
        state.output_tokens += output_tokens
        state.cache_written += written
        state.cache_read += read
        state.messages.append({"role": "assistant", "content": assistant_content(response)})
        text = response_text(response)
        # The last text the model wrote is the step's answer, even when its final turn only called tools.
        state.final_text = text or state.final_text
        self.progress.line(
            f"turn {state.turns}/{self.step.max_turns}: {response.stop_reason} in {duration_s:.1f}s, "
            f"tokens {input_tokens} in ({read} cached, {written} written) / {output_tokens} out"
            + (f': "{first_line(text)}"' if text else "")
        )

    def run_tool_calls(self, tool_uses: list, cut_off: bool) -> list[dict]:
        results = []
        for position, block in enumerate(tool_uses, start=1):
            if cut_off and position == len(tool_uses):
                result = ToolResult(CUT_OFF_TOOL_CALL_MESSAGE, is_error=True)
                self.progress.line(f"  {block.name}: not run, its input may be cut off at max_tokens")
            else:
                result = self.run_tool_call(block)
            results.append(
                {"type": "tool_result", "tool_use_id": block.id, "content": result.content, "is_error": result.is_error}
            )
        return results

    def run_tool_call(self, block) -> ToolResult:
        began = time.monotonic()
        result = execute_tool(block.name, block.input, self.step.tools, self.tool_context)
        self.state.tool_calls += 1
        outcome = f"error: {first_line(result.content)}" if result.is_error else "ok"
        if result.is_error:
            self.state.tools_failed.append(block.name)
        self.progress.line(
            f"  {block.name} {preview_tool_input(block.input)} -> {outcome} ({time.monotonic() - began:.2f}s)"
        )
        return result

    def finish(self, stop_reason: str, error: str | None = None) -> AgentResult:
        state = self.state
        self.progress.line(
            f"finished: {stop_reason} after {state.turns} turn(s), {state.tool_calls} tool call(s) "
            f"({len(state.tools_failed)} failed), tokens {state.input_tokens} in ({state.cache_read} cached, "
            f"{state.cache_written} written) / {state.output_tokens} out"
            + (f"; {error}" if error else "")
        )
        return AgentResult(stop_reason=stop_reason, turns=state.turns, final_text=state.final_text, error=error)
