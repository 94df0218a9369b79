"""The provider's prompt cache, as its published rules describe it, for the scripted model and the
cost benchmark.

A request is a sequence of blocks in the order the API reads them: tools, system, then the messages'
content blocks. A block carrying ``cache_control`` is a breakpoint. The rules:

- a request reads from the cache the longest prefix, ending at or before its last breakpoint, that an
  earlier request within the time to live (5 minutes, refreshed by each read) wrote at a breakpoint;
- it writes the prefix at each of its breakpoints; the tokens from the read prefix up to its last
  cacheable breakpoint are billed as cache writes;
- a prefix shorter than the model's minimum cacheable length is neither written nor read.

Prefixes are compared by a running digest of the blocks (their ``cache_control`` left out, as the
provider does), and tokens are counted per block with the scripted model's estimate, so the three
counts always add up to the request's input tokens.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["CacheCounts", "PromptCache", "request_blocks", "minimum_cacheable_tokens", "CACHE_TTL_S"]

CACHE_TTL_S = 300.0
# Published minimum cacheable prompt lengths, first match wins.
MINIMUM_CACHEABLE: tuple[tuple[str, int], ...] = (
    ("claude-opus-4-1*", 1024), ("claude-opus-4-0*", 1024), ("claude-opus-4-2025*", 1024),
    ("claude-opus-4*", 4096), ("claude-opus-5*", 4096), ("claude-haiku-4*", 4096),
    ("claude-3-5-haiku*", 2048), ("claude-3-haiku*", 2048),
)  # fmt: skip
DEFAULT_MINIMUM_CACHEABLE = 1024  # Sonnet, and the scripted model (priced as Sonnet)


def minimum_cacheable_tokens(model: str) -> int:
    return next((size for pattern, size in MINIMUM_CACHEABLE if fnmatch.fnmatchcase(model, pattern)),
                DEFAULT_MINIMUM_CACHEABLE)  # fmt: skip


def estimate_tokens(text: str) -> int:
    """About one token per four characters, never zero (the scripted model's estimate)."""
    return max(1, (len(text) + 3) // 4)


@dataclass(frozen=True)
class PrefixPoint:
    """The end of one block: the digest and token count of the prefix up to it, and a breakpoint mark."""

    digest: str
    tokens: int
    breakpoint: bool


@dataclass(frozen=True)
class CacheCounts:
    """Input tokens of one request, split the way the API bills them."""

    input_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int

    @property
    def total(self) -> int:
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens


def _block_text(block: Any) -> str:
    if not isinstance(block, dict):
        return str(block)
    if block.get("type") == "tool_use":
        return str(block.get("name", "")) + json.dumps(block.get("input", {}), ensure_ascii=False)
    if block.get("type") == "tool_result":
        content = block.get("content", "")
        return content if isinstance(content, str) else "".join(_block_text(inner) for inner in content)
    if "text" in block:
        return str(block["text"])
    return json.dumps({key: value for key, value in block.items() if key != "cache_control"}, ensure_ascii=False)


def _as_blocks(role: str, content: Any) -> list[tuple[str, Any]]:
    if isinstance(content, str):
        return [(role, {"type": "text", "text": content})]
    return [(role, block) for block in content or ()]


def _canonical(role: str, block: Any) -> bytes:
    plain = {key: value for key, value in block.items() if key != "cache_control"} if isinstance(block, dict) else block
    return (role + ":" + json.dumps(plain, sort_keys=True, ensure_ascii=False)).encode()


def request_blocks(payload: dict[str, Any]) -> list[tuple[str, Any]]:
    """(role, block) in the order the API reads a request: tools, system, messages."""
    blocks: list[tuple[str, Any]] = [("tool", tool) for tool in payload.get("tools") or ()]
    blocks += _as_blocks("system", payload.get("system") or [])
    for message in payload.get("messages") or ():
        blocks += _as_blocks(str(message.get("role")), message.get("content"))
    return blocks


def _block_tokens(role: str, block: Any) -> int:
    return estimate_tokens(json.dumps(block, ensure_ascii=False) if role == "tool" else _block_text(block))


def prefix_points(payload: dict[str, Any]) -> list[PrefixPoint]:
    """One point per block: the running digest and token count of the prefix that ends with it."""
    running, tokens, points = hashlib.sha256(str(payload.get("model")).encode()), 0, []
    for role, block in request_blocks(payload):
        running.update(_canonical(role, block))
        tokens += _block_tokens(role, block)
        marked = isinstance(block, dict) and block.get("cache_control") is not None
        points.append(PrefixPoint(running.hexdigest(), tokens, marked))
    return points


class PromptCache:
    """Cache entries written by earlier requests, with their expiry; thread-safe."""

    def __init__(self, ttl_s: float = CACHE_TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def account(self, payload: dict[str, Any], now: float | None = None) -> CacheCounts:
        """Read and write the cache for one request; return its input tokens split as billed."""
        points = prefix_points(payload)
        total = points[-1].tokens if points else 0
        minimum = minimum_cacheable_tokens(str(payload.get("model")))
        cacheable = [index for index, point in enumerate(points) if point.breakpoint and point.tokens >= minimum]
        if not cacheable:
            return CacheCounts(total, 0, 0)
        moment = self._clock() if now is None else now
        with self._lock:
            read = self._longest_hit(points[: cacheable[-1] + 1], moment)
            for index in cacheable:
                self._expiry[points[index].digest] = moment + self._ttl_s
        written = points[cacheable[-1]].tokens - read
        return CacheCounts(total - read - written, written, read)

    def _longest_hit(self, points: list[PrefixPoint], moment: float) -> int:
        for point in reversed(points):
            if self._expiry.get(point.digest, -1.0) > moment:
                self._expiry[point.digest] = moment + self._ttl_s  # a hit refreshes the entry
                return point.tokens
        return 0
