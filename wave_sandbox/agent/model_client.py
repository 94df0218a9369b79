"""The one place that talks to the anthropic SDK: the client, one model turn, and error wording.

The client reads ANTHROPIC_BASE_URL (the run's gateway) and ANTHROPIC_API_KEY (this step's token)
from the environment. A step has no network: when WAVE_SANDBOX_GATEWAY_SOCKET names the gateway's Unix
socket (mounted read-only into the container), every request goes through that socket and the base
URL's host is never looked up. The gateway already retries the upstream's 429/529, so the SDK retries
only a little, for a hiccup between the container and the gateway.
"""

from __future__ import annotations

import gc
import os

import anthropic

try:  # the SDK's own HTTP client: its fork `httpx2` in recent releases, `httpx` before
    import httpx2 as sdk_http
except ImportError:  # pragma: no cover - an image built with an older SDK
    import httpx as sdk_http

# The SDK's objects live as long as the process: keep the collector from walking them again.
gc.freeze()

MODEL_CLIENT_MAX_RETRIES = 2
MODEL_REQUEST_TIMEOUT_S = 600.0
ERROR_MESSAGE_CHARS = 500
GATEWAY_SOCKET_VARIABLE = "WAVE_SANDBOX_GATEWAY_SOCKET"


class ModelRequestError(Exception):
    """A model request failed for good; the text is one line for the step's `error`."""


class PromptTooLongError(ModelRequestError):
    """The provider refused the request as longer than the context window; the loop shrinks and retries."""

    def __init__(self, message: str, api_message: str) -> None:
        super().__init__(message)
        self.api_message = api_message


def create_model_client() -> anthropic.Anthropic:
    # Recent SDKs send the key only as `Authorization: Bearer`; the gateway's contract is `x-api-key`,
    # so the step token goes in both, whatever the SDK version in the image.
    step_token = os.environ.get("ANTHROPIC_API_KEY")
    try:
        # An explicit timeout also stops the SDK from refusing large non-streaming max_tokens values.
        return anthropic.Anthropic(
            max_retries=MODEL_CLIENT_MAX_RETRIES,
            timeout=MODEL_REQUEST_TIMEOUT_S,
            default_headers={"x-api-key": step_token} if step_token else None,
            http_client=_gateway_socket_client(),
        )
    except anthropic.AnthropicError as exc:
        raise ModelRequestError(f"model client setup failed: {one_line(str(exc))}") from exc


def _gateway_socket_client():
    """The SDK's default HTTP client, its connections made to the gateway's socket; None without one."""
    socket_path = os.environ.get(GATEWAY_SOCKET_VARIABLE)
    if not socket_path:
        return None
    return anthropic.DefaultHttpxClient(transport=sdk_http.HTTPTransport(uds=socket_path))


def model_base_url() -> str:
    """Where requests go, as the step's error lines name it."""
    socket_path = os.environ.get(GATEWAY_SOCKET_VARIABLE)
    if socket_path:
        return f"the gateway's socket {socket_path}"
    return os.environ.get("ANTHROPIC_BASE_URL", "https://api.anthropic.com")


def request_model_turn(client: anthropic.Anthropic, request: dict, timeout_s: float):
    """One streamed Messages API call, its final message assembled by the SDK (the SDK requires a stream
    for long requests); SDK errors become ModelRequestError, an overlong prompt PromptTooLongError."""
    try:
        with client.messages.stream(**request, timeout=timeout_s) as stream:
            return stream.get_final_message()
    except anthropic.AnthropicError as exc:
        described = describe_model_error(exc, timeout_s)
        if isinstance(exc, anthropic.BadRequestError) and "prompt is too long" in read_error_body(exc)[1]:
            raise PromptTooLongError(described, read_error_body(exc)[1]) from exc
        raise ModelRequestError(described) from exc


def describe_model_error(exc: anthropic.AnthropicError, timeout_s: float) -> str:
    """`model request failed: 400 invalid_request_error: <the API's message>` and the like."""
    if isinstance(exc, anthropic.APIStatusError):
        error_type, message = read_error_body(exc)
        kind = f" {error_type}" if error_type else ""
        return f"model request failed: {exc.status_code}{kind}: {one_line(message)}"
    if isinstance(exc, anthropic.APITimeoutError):
        return f"model request failed: no answer from {model_base_url()} within {timeout_s:g} s"
    if isinstance(exc, anthropic.APIConnectionError):
        cause = exc.__cause__ or exc
        return f"model request failed: cannot reach {model_base_url()}: {one_line(str(cause))}"
    return f"model request failed: {exc.__class__.__name__}: {one_line(str(exc))}"


def read_error_body(exc: anthropic.APIStatusError) -> tuple[str | None, str]:
    """The API's {"type": "error", "error": {"type", "message"}}, else whatever text the SDK kept."""
    body = exc.body
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error.get("type"), error["message"]
    return None, str(body) if body else exc.message


def one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= ERROR_MESSAGE_CHARS else flat[: ERROR_MESSAGE_CHARS - 3] + "..."


def assistant_content(response) -> list[dict]:
    """The response's content blocks as plain dicts to send back in the next request."""
    blocks = []
    for block in response.content:
        if block.type == "text":
            if block.text:  # the API refuses empty text blocks in requests
                blocks.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            blocks.append({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input})
        else:  # thinking and other blocks must go back exactly as they came
            blocks.append(block.to_dict())
    return blocks


def response_text(response) -> str:
    return "\n".join(block.text for block in response.content if block.type == "text" and block.text)


def response_tool_uses(response) -> list:
    return [block for block in response.content if block.type == "tool_use"]


def usage_tokens(response) -> tuple[int, int]:
    """(prompt tokens, cached ones included; output tokens)."""
    written, read = cache_tokens(response)
    return (_usage_field(response, "input_tokens") + written + read, _usage_field(response, "output_tokens"))


def cache_tokens(response) -> tuple[int, int]:
    """(prompt tokens written to the cache, read from it)."""
    return (_usage_field(response, "cache_creation_input_tokens"), _usage_field(response, "cache_read_input_tokens"))


def _usage_field(response, name: str) -> int:
    value = getattr(getattr(response, "usage", None), name, 0)
    return value if isinstance(value, int) else 0
