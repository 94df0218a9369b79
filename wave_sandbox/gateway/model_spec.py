"""``--model SPEC``: which upstream answers the steps, and building it.

``anthropic:MODEL_ID`` uses the real API with the host's ``ANTHROPIC_API_KEY``; ``openai:MODEL_ID``
an OpenAI-compatible server through the gateway's translation, with ``OPENAI_API_KEY``;
``scripted:FILE`` uses the offline scripted model (FILE relative to the cwd). Without ``--model``,
the real API is used when a key is set; otherwise the error names the options.

``--upstream-url`` (from flags, the environment or the user's settings, never a repository) points
anthropic at an Anthropic-compatible server (llama.cpp's server speaks the Messages API) and openai
at an OpenAI-compatible one (vLLM, Ollama, llama.cpp). A key is then optional: local servers need
none. ``--upstream-local`` marks such a server local: a small model's tool calls are constrained to
JSON and recovered from its text (openai only).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from wave_sandbox.errors import ModelSpecError
from wave_sandbox.gateway.upstream import Upstream

__all__ = ["ModelChoice", "parse_model_spec", "make_upstream", "API_KEY_VARIABLE", "OPENAI_KEY_VARIABLE"]

API_KEY_VARIABLE = "ANTHROPIC_API_KEY"
OPENAI_KEY_VARIABLE = "OPENAI_API_KEY"
# The host's own override of the API address (as the anthropic SDK honours it), e.g. a corporate proxy.
BASE_URL_VARIABLE = "ANTHROPIC_BASE_URL"
OPENAI_BASE_URL_VARIABLE = "OPENAI_BASE_URL"
_MODEL_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/-]*$")
_BOTH_OPTIONS = (
    "use --model anthropic:MODEL_ID (with ANTHROPIC_API_KEY set), --model openai:MODEL_ID (with OPENAI_API_KEY "
    "set, or --upstream-url for a local server) or --model scripted:FILE (the offline scripted model)"
)


@dataclass(frozen=True)
class ModelChoice:
    """The upstream a run uses: the real API or a script file.

    ``model_id`` is the id after ``anthropic:``; None leaves the choice to the runner (the step's,
    the persona's or its default model). The scripted model answers under whatever id it is asked for.
    """

    kind: Literal["anthropic", "openai", "scripted", "mock"]
    model_id: str | None = None
    script_path: Path | None = None

    def describe(self) -> str:
        """One line for notices: ``anthropic:claude-...`` or ``scripted:/path/file.yaml``."""
        if self.kind == "scripted":
            return f"scripted:{self.script_path}"
        if self.kind == "mock":
            return "mock"
        return f"{self.kind}:{self.model_id}" if self.model_id else self.kind


def parse_model_spec(
    spec: str | None, cwd: Path, environ: Mapping[str, str], upstream_url: str | None = None
) -> ModelChoice:
    """Read ``--model``; raises ModelSpecError saying what to pass or set instead.

    With ``upstream_url`` (another server than the provider's own), the key is optional."""
    if spec is None or not spec.strip():
        if environ.get(API_KEY_VARIABLE):
            return ModelChoice(kind="anthropic")
        raise ModelSpecError(f"no model chosen and {API_KEY_VARIABLE} is not set: {_BOTH_OPTIONS}")
    if spec.strip() == "mock":  # the built-in mock model: stub artifacts, no script, no key
        return ModelChoice(kind="mock")
    kind, separator, rest = spec.strip().partition(":")
    if kind == "anthropic":
        return _anthropic_choice(rest.strip(), environ, bool(upstream_url))
    if kind == "openai":
        return _openai_choice(rest.strip(), environ, bool(upstream_url or environ.get(OPENAI_BASE_URL_VARIABLE)))
    if kind == "scripted" and separator:
        return _scripted_choice(rest.strip(), cwd)
    raise ModelSpecError(f"--model {spec!r} is not understood: {_BOTH_OPTIONS}")


def _anthropic_choice(model_id: str, environ: Mapping[str, str], other_server: bool = False) -> ModelChoice:
    if not environ.get(API_KEY_VARIABLE) and not other_server:
        raise ModelSpecError(
            f"--model anthropic needs the API key in {API_KEY_VARIABLE} on the host; set it, "
            "or use --model scripted:FILE for the offline scripted model"
        )
    if model_id and not _MODEL_ID_PATTERN.match(model_id):
        raise ModelSpecError(f"--model anthropic:{model_id} is not a model id; use e.g. anthropic:claude-sonnet-4-5")
    return ModelChoice(kind="anthropic", model_id=model_id or None)


def _openai_choice(model_id: str, environ: Mapping[str, str], other_server: bool) -> ModelChoice:
    if not model_id:
        raise ModelSpecError("--model openai: needs a model id, as in --model openai:gpt-4o-mini")
    if not _MODEL_ID_PATTERN.match(model_id):
        raise ModelSpecError(f"--model openai:{model_id} is not a model id; use e.g. openai:gpt-4o-mini")
    if not environ.get(OPENAI_KEY_VARIABLE) and not other_server:
        raise ModelSpecError(
            f"--model openai needs the API key in {OPENAI_KEY_VARIABLE} on the host for OpenAI's API; set it, "
            "or point --upstream-url at an OpenAI-compatible server (vLLM, Ollama, llama.cpp) that needs none"
        )
    return ModelChoice(kind="openai", model_id=model_id)


def _scripted_choice(file_text: str, cwd: Path) -> ModelChoice:
    if not file_text:
        raise ModelSpecError("--model scripted: needs a file, as in --model scripted:examples/demo.script.yaml")
    script_path = (cwd / Path(file_text).expanduser()).resolve()
    if not script_path.is_file():
        raise ModelSpecError(f"scripted model file not found: {script_path}; check the path after 'scripted:'")
    return ModelChoice(kind="scripted", script_path=script_path)


def make_upstream(
    choice: ModelChoice, environ: Mapping[str, str], anthropic_base_url: str | None = None, upstream_local: bool = False
) -> Upstream:
    """The upstream for ``choice``: loads and checks a script (ScriptError), or reads the API key.

    ``anthropic_base_url`` is ``--upstream-url`` (it names the OpenAI-compatible server for openai)."""
    if choice.kind == "mock":
        from wave_sandbox.gateway.mock_model import MockUpstream

        return MockUpstream()
    if choice.kind == "scripted":
        from wave_sandbox.gateway.script_file import load_script
        from wave_sandbox.gateway.scripted import ScriptedUpstream

        assert choice.script_path is not None, "parse_model_spec always sets script_path for scripted"
        return ScriptedUpstream(load_script(choice.script_path))
    if choice.kind == "openai":
        return _openai_upstream(environ, anthropic_base_url, upstream_local)
    from wave_sandbox.gateway.anthropic_upstream import DEFAULT_ANTHROPIC_BASE_URL, AnthropicUpstream, https_proxy_for

    api_key = environ.get(API_KEY_VARIABLE)
    if not api_key and not anthropic_base_url:
        raise ModelSpecError(f"the Anthropic API needs a key in {API_KEY_VARIABLE} on the host; set it")
    base_url = anthropic_base_url or environ.get(BASE_URL_VARIABLE) or DEFAULT_ANTHROPIC_BASE_URL
    return AnthropicUpstream(api_key or "", base_url=base_url, proxy_url=https_proxy_for(base_url, environ))


def _openai_upstream(environ: Mapping[str, str], upstream_url: str | None, local: bool) -> Upstream:
    from wave_sandbox.gateway.anthropic_upstream import https_proxy_for
    from wave_sandbox.gateway.openai_upstream import DEFAULT_OPENAI_BASE_URL, OpenAIUpstream

    api_key = environ.get(OPENAI_KEY_VARIABLE)
    base_url = upstream_url or environ.get(OPENAI_BASE_URL_VARIABLE) or DEFAULT_OPENAI_BASE_URL
    if not api_key and base_url == DEFAULT_OPENAI_BASE_URL:
        raise ModelSpecError(f"OpenAI's API needs a key in {OPENAI_KEY_VARIABLE} on the host; set it")
    return OpenAIUpstream(api_key, base_url=base_url, local=local, proxy_url=https_proxy_for(base_url, environ))
