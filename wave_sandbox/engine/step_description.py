"""The step description: what the runner tells the agent in /wave/step.json.

The host side of a contract with `wave_sandbox.agent.step_file` (the agent's stdlib reader, which runs in
the image and cannot import pydantic). Both declare the same fields with the same defaults and types;
`tests/unit/engine/test_step_description.py` holds them together.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

WORKDIR = "/workspace"
TOOL_OUTPUT_LIMIT = 30_000
BASH_TIMEOUT_S = 120
CONTEXT_WINDOW = 200_000


class StepDescription(BaseModel):
    """Everything the agent needs to run one step: prompts, model, allowed tools and limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    step_id: str = Field(min_length=1)
    """The step's id in the pipeline."""
    persona: str = Field(min_length=1)
    """The persona's name."""
    model: str = Field(min_length=1)
    """The model id the gateway is asked for."""
    system: str
    """The persona's system prompt."""
    prompt: str = Field(min_length=1)
    """The user prompt: the rendered step prompt plus what the step sees and must write."""
    tools: tuple[str, ...]
    """The agent tools this step may call."""
    max_tokens: int = Field(gt=0)
    """Output tokens per model request."""
    max_turns: int = Field(gt=0)
    """Model requests before the agent gives up."""
    timeout_s: float = Field(gt=0)
    """Seconds the agent has (the whole step's time, or what is left of it on a retry)."""
    workdir: str = Field(default=WORKDIR, min_length=1)
    """The tools' working directory."""
    tool_output_limit: int = Field(default=TOOL_OUTPUT_LIMIT, gt=0)
    """Characters of one tool result before it is truncated with a marker."""
    bash_timeout_s: float = Field(default=BASH_TIMEOUT_S, gt=0)
    """Default time limit of one bash command."""
    context_window: int = Field(default=CONTEXT_WINDOW, gt=0)
    """Tokens the step's model reads at most (prompt and answer); the agent keeps its prompt within it."""
    temperature: float | None = Field(default=None, ge=0, le=1)
    """Sampling temperature sent with each model request (Wave's persona temperature); None: the model's default."""

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    def for_retry(self, prompt: str, timeout_s: float) -> "StepDescription":
        """The same step told what to fix, within the time it has left."""
        return self.model_copy(update={"prompt": prompt, "timeout_s": timeout_s})
