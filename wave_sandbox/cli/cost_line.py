"""The cost line printed on stderr after a run's closing lines (stdout keeps its lines as they are)."""

from __future__ import annotations

from wave_sandbox.gateway.prices import format_usd

__all__ = ["format_cost_line"]


def format_cost_line(result) -> str:
    """`cost: $0.0421 (52,000 tokens in: 40,000 read from the prompt cache, 8,000 written to it; 1,200 out)`."""
    usage = result.usage
    tokens = (
        f"{usage.input_tokens:,} tokens in: {usage.cache_read_input_tokens:,} read from the prompt cache, "
        f"{usage.cache_creation_input_tokens:,} written to it; {usage.output_tokens:,} out"
    )
    earlier = result.cost_usd - usage.cost_usd
    if earlier > 0.000_000_5:
        return f"cost: {format_usd(result.cost_usd)} in all, {format_usd(usage.cost_usd)} this attempt ({tokens})"
    return f"cost: {format_usd(result.cost_usd)} ({tokens})"
