"""The evidence pass's verdict and suspects, when a step ran it: found in the step's tool results.

A step runs `wave-evidence --json` with its bash tool; the gateway's transcript keeps the tool result
the agent sent back ("exit code: 0" and the JSON object). The transcript is read as data only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_TRANSCRIPT_BYTES = 64 * 1024 * 1024
MAX_SUSPECTS = 10


@dataclass(frozen=True)
class Suspect:
    rank: int
    commit: str
    subject: str
    score: float
    reasons: list[str]


@dataclass(frozen=True)
class Suspects:
    step_id: str
    verdict: str
    confident: bool
    suspects: list[Suspect]


def suspects_in_transcripts(steps_folder: Path, record_folder: Path | None = None) -> Suspects | None:
    """The first evidence JSON any step's transcript holds, in step folder order (a transcript whose
    real path leaves `record_folder`, through a symlink, is not read)."""
    if not steps_folder.is_dir():
        return None
    for transcript in sorted(steps_folder.glob("*/transcript.jsonl")):
        if record_folder is not None and not _inside(record_folder, transcript):
            continue
        if not transcript.is_file() or transcript.stat().st_size > MAX_TRANSCRIPT_BYTES:
            continue  # a folder, or a FIFO (whose read would wait forever), is no transcript
        try:
            found = _first_evidence(transcript)
        except OSError:
            continue
        if found is not None:
            return _suspects(transcript.parent.name, found)
    return None


def _first_evidence(transcript: Path) -> dict[str, Any] | None:
    for line in transcript.read_text(errors="replace").splitlines():
        try:
            exchange = json.loads(line)
        except (ValueError, RecursionError):
            continue
        for text in _tool_results(exchange):
            evidence = _evidence_object(text)
            if evidence is not None:
                return evidence
    return None


def _tool_results(exchange: Any) -> list[str]:
    request = exchange.get("request") if isinstance(exchange, dict) else None
    messages = request.get("messages") if isinstance(request, dict) else None
    results = []
    for message in messages if isinstance(messages, list) else []:
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else []:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                results.append(_block_text(block.get("content")))
    return results


def _block_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _evidence_object(text: str) -> dict[str, Any] | None:
    start = text.find("{")
    if start < 0 or '"suspects"' not in text:
        return None
    try:
        parsed = json.loads(text[start:])
    except (ValueError, RecursionError):  # an agent's tool result nesting 100 000 deep is no evidence
        return None
    if isinstance(parsed, dict) and isinstance(parsed.get("suspects"), list) and "verdict" in parsed:
        return parsed
    return None


def _suspects(step_id: str, evidence: dict[str, Any]) -> Suspects:
    listed = []
    for item in evidence["suspects"][:MAX_SUSPECTS]:
        if isinstance(item, dict):
            listed.append(Suspect(
                rank=_number(item.get("rank"), int), commit=str(item.get("commit", ""))[:40],
                subject=str(item.get("subject", "")), score=_number(item.get("score"), float),
                reasons=[str(reason) for reason in item.get("reasons", []) if isinstance(reason, str)][:8],
            ))
    return Suspects(step_id, str(evidence.get("verdict", "")), evidence.get("confident") is True, listed)


def _inside(root: Path, path: Path) -> bool:
    try:
        return path.resolve(strict=True).is_relative_to(root.resolve(strict=True))
    except (OSError, RuntimeError):
        return False


def _number(value: Any, kind: type) -> Any:
    return kind(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else kind(0)
