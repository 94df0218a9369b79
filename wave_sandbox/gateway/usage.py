"""Token usage: the Usage value and how it is read from Messages API responses.

Both upstreams report usage the same way the real API does, so one reader serves both: a JSON
message carries ``usage``; a stream carries it on ``message_start`` (input side) and
``message_delta`` (cumulative totals that overwrite the start values).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Usage", "usage_from_message_json", "StreamUsage"]

# Cached prompt tokens are still tokens the model read, so a budget counts them as input.
_INPUT_FIELDS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


@dataclass(frozen=True)
class Usage:
    """Requests made and tokens used by one step (or a whole run)."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    """Of ``input_tokens``, those written to the prompt cache (billed above the input price)."""
    cache_read_input_tokens: int = 0
    """Of ``input_tokens``, those read from the prompt cache (billed at a tenth of it)."""
    cost_usd: float = 0.0
    """What the tokens cost at the run's price table (``gateway.prices``); 0 when unpriced."""

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens, the number a token budget is held to."""
        return self.input_tokens + self.output_tokens

    @property
    def uncached_input_tokens(self) -> int:
        """Input tokens billed at the plain input price."""
        return self.input_tokens - self.cache_creation_input_tokens - self.cache_read_input_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            requests=self.requests + other.requests,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_creation_input_tokens=self.cache_creation_input_tokens + other.cache_creation_input_tokens,
            cache_read_input_tokens=self.cache_read_input_tokens + other.cache_read_input_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
        )

    def token_counts(self) -> dict[str, int]:
        """The four counts as the API names them, ``input_tokens`` including the cached ones."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
        }


def _count(value: Any) -> int:
    # A hostile or broken upstream must not crash the accounting with a string or a negative number.
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _usage_from_fields(fields: dict[str, Any]) -> Usage:
    input_tokens = sum(_count(fields.get(name)) for name in _INPUT_FIELDS)
    return Usage(
        input_tokens=input_tokens,
        output_tokens=_count(fields.get("output_tokens")),
        cache_creation_input_tokens=_count(fields.get("cache_creation_input_tokens")),
        cache_read_input_tokens=_count(fields.get("cache_read_input_tokens")),
    )


def usage_from_message_json(body: Any) -> Usage:
    """Tokens of a non-streamed response body; zero for errors and for count_tokens answers."""
    if isinstance(body, dict) and isinstance(body.get("usage"), dict):
        return _usage_from_fields(body["usage"])
    return Usage()


class StreamUsage:
    """Follows the events of one SSE stream and knows the usage it reported."""

    def __init__(self) -> None:
        self._fields: dict[str, Any] = {}

    def observe(self, data: Any) -> None:
        """Take the usage fields of one decoded event's data, if it carries any."""
        if not isinstance(data, dict):
            return
        if data.get("type") == "message_start" and isinstance(data.get("message"), dict):
            self._overwrite(data["message"].get("usage"))
        elif data.get("type") == "message_delta":
            self._overwrite(data.get("usage"))

    def _overwrite(self, usage: Any) -> None:
        # message_delta totals are cumulative: they replace, never add to, what message_start said.
        if isinstance(usage, dict):
            self._fields.update({key: value for key, value in usage.items() if value is not None})

    def total(self) -> Usage:
        """Usage reported so far by the stream."""
        return _usage_from_fields(self._fields)
