"""What tokens cost: a price table per model, and the cost of a Usage under it.

Source: Anthropic's published price list, https://platform.claude.com/docs/en/about-claude/pricing
("Model pricing": base input, 5m cache writes, cache hits and refreshes, output; USD per million
tokens), as of 2026-12-06. The gateway writes 5-minute cache entries only (the agent asks for no ttl),
so a cache write is priced at the 5m rate, 1.25 times the input price; a cache read at 0.1 times.

The user may override or add models in their own settings (``prices:`` in
``~/.config/wave-sandbox/config.yaml``, per million tokens); a repository never may (its
``.wave/config.yaml`` refuses the key). The scripted model is priced as the default model, so an
offline run shows what the same tokens would cost on the real one, and ``--max-cost`` can be tested
offline. A model in no table is unpriced: its cost is 0 and ``--max-cost`` refuses to run it.

    table = PriceTable.with_overrides({"claude-sonnet-4-5": {"input": 3, "output": 15}})
    table.cost("claude-sonnet-4-5", usage)   # USD
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, replace

from wave_sandbox.gateway.usage import Usage

__all__ = ["ModelPrice", "PriceTable", "PRICES_SOURCE", "PRICES_DATE", "format_usd"]

PRICES_SOURCE = "https://platform.claude.com/docs/en/about-claude/pricing"
PRICES_DATE = "2026-12-06"
PER_TOKENS = 1_000_000
CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.1


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens of each kind."""

    input: float
    output: float
    cache_write: float
    cache_read: float

    @classmethod
    def of(cls, input_price: float, output_price: float) -> ModelPrice:
        """A price with the published cache multipliers (5m write 1.25x, read 0.1x of input)."""
        return cls(input_price, output_price, input_price * CACHE_WRITE_FACTOR, input_price * CACHE_READ_FACTOR)

    def cost(self, usage: Usage) -> float:
        """USD for the tokens of ``usage`` (``input_tokens`` includes the cached ones)."""
        return (
            usage.uncached_input_tokens * self.input
            + usage.cache_creation_input_tokens * self.cache_write
            + usage.cache_read_input_tokens * self.cache_read
            + usage.output_tokens * self.output
        ) / PER_TOKENS

    def most_per_input_token(self) -> float:
        """The dearest way an input token can be billed (a reservation assumes it)."""
        return max(self.input, self.cache_write, self.cache_read) / PER_TOKENS


# Model id patterns, first match wins (dated ids such as claude-sonnet-4-5-20250929 match their family).
PUBLISHED_PRICES: tuple[tuple[str, ModelPrice], ...] = (
    ("claude-opus-4-1*", ModelPrice.of(15.0, 75.0)),
    ("claude-opus-4-0*", ModelPrice.of(15.0, 75.0)),
    ("claude-opus-4-2025*", ModelPrice.of(15.0, 75.0)),
    ("claude-opus-4*", ModelPrice.of(5.0, 25.0)),  # 4.5 and later
    ("claude-opus-5*", ModelPrice.of(5.0, 25.0)),
    ("claude-sonnet-4*", ModelPrice.of(3.0, 15.0)),
    ("claude-3-7-sonnet*", ModelPrice.of(3.0, 15.0)),
    ("claude-haiku-4*", ModelPrice.of(1.0, 5.0)),
    ("claude-3-5-haiku*", ModelPrice(0.80, 4.0, 1.0, 0.08)),
    ("claude-3-haiku*", ModelPrice(0.25, 1.25, 0.30, 0.03)),
)
SCRIPTED_MODEL_PRICED_AS = "claude-sonnet-4-5"


def format_usd(amount: float) -> str:
    """``$0.0123``: four decimals below a dollar, two above."""
    return f"${amount:.2f}" if amount >= 1 else f"${amount:.4f}"


class PriceTable:
    """The published prices, with the user's overrides on top."""

    def __init__(self, overrides: Mapping[str, ModelPrice] | None = None) -> None:
        self._overrides = dict(overrides or {})

    @classmethod
    def with_overrides(cls, settings: Mapping[str, Mapping[str, float]] | None) -> PriceTable:
        """From the user's ``prices:`` section: per model id, ``input`` and ``output`` and optionally
        ``cache_write`` and ``cache_read`` (else the published multipliers of ``input``)."""
        overrides = {}
        for model, fields in (settings or {}).items():
            price = ModelPrice.of(fields["input"], fields["output"])
            extra = {name: fields[name] for name in ("cache_write", "cache_read") if fields.get(name) is not None}
            overrides[model] = replace(price, **extra)
        return cls(overrides)

    @property
    def has_overrides(self) -> bool:
        return bool(self._overrides)

    def price(self, model: str | None) -> ModelPrice | None:
        """The model's price, or None when no table knows it."""
        if not model:
            return None
        if model in self._overrides:
            return self._overrides[model]
        if model == "scripted":
            return self.price(SCRIPTED_MODEL_PRICED_AS)
        return next((price for pattern, price in PUBLISHED_PRICES if fnmatch.fnmatchcase(model, pattern)), None)

    def cost(self, model: str | None, usage: Usage) -> float:
        """USD for ``usage`` of ``model``; 0 for an unpriced model."""
        price = self.price(model)
        return 0.0 if price is None else price.cost(usage)
