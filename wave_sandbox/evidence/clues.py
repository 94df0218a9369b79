"""What the incident's errors point at in the repository: frames, files, error texts, words, libraries.

Only signatures with a weight (the incident's, and new ones) contribute, each in proportion to its
weight; background errors point at nothing. Frames near the innermost repository frame count more
than the outer dispatch frames every request passes through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from wave_sandbox.evidence.signatures import RepoFrame, Signature, template_message

__all__ = ["ErrorClues", "TracedFunction", "gather_clues", "words_of"]

MAX_TRACED_FUNCTIONS = 12
MAX_ERROR_TEXTS = 8
ERROR_TEXTS_PER_SIGNATURE = 3
MIN_FRAGMENT_CHARS = 12
MIN_IDENTIFIER_CHARS = 5
DEPTH_DECAY = 0.75
MIN_DEPTH_WEIGHT = 0.3
INFRASTRUCTURE_SHARE = 0.5
# A masked value with any unit glued to it ("30.0s" -> "<n>s"), or a quote.
PLACEHOLDER = re.compile(r"<(?:n|hex|uuid|addr|ip|email|v)>[A-Za-z%]*|['\"`]")
QUOTED_IDENTIFIER = re.compile(r"'([A-Za-z_][\w.]{%d,})'" % (MIN_IDENTIFIER_CHARS - 1))
BUILTIN_TYPE_NAMES = {"NoneType", "object", "function", "module", "method", "builtin_function_or_method",
                      "dict", "list", "tuple", "str", "bytes", "float", "int", "bool", "type", "Decimal"}
WORD = re.compile(r"[A-Za-z][a-z]+|[A-Z]+(?![a-z])|[0-9]+")
STOP_WORDS = {
    "error", "errors", "exception", "failed", "failure", "fail", "none", "true", "false", "with", "from",
    "that", "this", "after", "before", "request", "requests", "value", "values", "line", "file", "self",
    "object", "have", "http", "https", "null", "most", "recent", "call", "last", "traceback", "unhandled",
    "into", "than", "then", "when", "were", "does", "must", "should", "could", "would", "while", "main",
    "init", "return", "raise", "invalid", "data", "type", "name", "default", "true", "info", "warning",
    "debug", "level", "message", "time", "version", "code", "some", "more", "less", "only", "still",
}  # fmt: skip


@dataclass(frozen=True)
class TracedFunction:
    """A repository function in the incident's stack traces, with the weight of its evidence."""

    path: str
    function: str
    line: int
    weight: float
    label: str
    source: str = ""


@dataclass
class ErrorClues:
    """Everything a commit can be matched against."""

    functions: list[TracedFunction] = field(default_factory=list)
    frame_files: dict[str, tuple[float, str]] = field(default_factory=dict)
    error_texts: list[tuple[str, float, str | None]] = field(default_factory=list)
    """(literal text, weight, exception type or None for a logged message)."""
    words: set[str] = field(default_factory=set)
    libraries: dict[str, tuple[float, str]] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    """Error messages as logged (values unmasked), to find a setting's new value in them."""
    infrastructure: bool = False
    infrastructure_label: str | None = None
    external: tuple[str, str | None] | None = None
    """(kind, target) of the cause outside the code the errors point at (external_causes.py)."""


def words_of(text: str) -> set[str]:
    """Lower-case words of at least four letters, identifiers split at case changes and underscores."""
    return {word.lower() for word in WORD.findall(text) if len(word) >= 4 and word.lower() not in STOP_WORDS}


def signature_label(signature: Signature) -> str:
    return signature.exception or signature.message[:80]


def gather_clues(signatures: list[Signature]) -> ErrorClues:
    clues = ErrorClues()
    weighted = [signature for signature in signatures if signature.weight > 0]
    for signature in sorted(weighted, key=lambda s: -s.weight):
        _add_frames(clues, signature)
        if signature.origin != "http":  # its "message" is ours (status, method, path), not the code's
            _add_error_texts(clues, signature)
            _add_words_and_libraries(clues, signature)
    clues.functions = sorted(clues.functions, key=lambda traced: -traced.weight)[:MAX_TRACED_FUNCTIONS]
    clues.error_texts = clues.error_texts[:MAX_ERROR_TEXTS]
    _judge_infrastructure(clues, weighted)
    return clues


def _add_frames(clues: ErrorClues, signature: Signature) -> None:
    label = signature_label(signature)
    best_line: dict[tuple[str, str], tuple[int, RepoFrame]] = {}
    for frame, count in signature.frames.items():
        key = (frame.path, frame.function)
        if key not in best_line or count > best_line[key][0]:
            best_line[key] = (count, frame)
    known = {(traced.path, traced.function): index for index, traced in enumerate(clues.functions)}
    for (path, function), (_, frame) in best_line.items():
        depth = min(signature.frame_depths.get(f, 0) for f in signature.frames if (f.path, f.function) == (path, function))
        weight = signature.weight * max(MIN_DEPTH_WEIGHT, DEPTH_DECAY ** max(0, depth - 1))
        if (path, function) in known:
            index = known[(path, function)]
            if clues.functions[index].weight >= weight:
                continue
            clues.functions[index] = TracedFunction(path, function, frame.line, weight, label, frame.source)
        else:
            clues.functions.append(TracedFunction(path, function, frame.line, weight, label, frame.source))
        if clues.frame_files.get(path, (0.0, ""))[0] < weight:
            clues.frame_files[path] = (weight, label)


def _add_error_texts(clues: ErrorClues, signature: Signature) -> None:
    known = {text for text, _, _ in clues.error_texts}
    label = signature.exception
    for text in constant_fragments(signature.raw_messages[0] if signature.raw_messages else "")[:ERROR_TEXTS_PER_SIGNATURE]:
        if text not in known:
            clues.error_texts.append((text, signature.weight, label))
            known.add(text)


def constant_fragments(message: str) -> list[str]:
    """Pieces of a message that code would hold as a literal: long runs between the variable parts,
    and quoted identifiers (a missing key or attribute)."""
    pieces = [piece.strip(" :,;.()[]{}=-") for piece in PLACEHOLDER.split(template_message(message))]
    fragments = [piece for piece in pieces if len(piece) >= MIN_FRAGMENT_CHARS and " " in piece]
    identifiers = [name for name in QUOTED_IDENTIFIER.findall(message) if name not in BUILTIN_TYPE_NAMES]
    return list(dict.fromkeys(sorted(fragments, key=len, reverse=True) + identifiers))


def _add_words_and_libraries(clues: ErrorClues, signature: Signature) -> None:
    label = signature_label(signature)
    # The exception's class name only: its module path names the package, which every file shares.
    texts = [(signature.exception or "").rsplit(".", 1)[-1], signature.message] + signature.raw_messages
    texts += [frame.function for frame in signature.frames]
    for text in texts:
        clues.words |= words_of(text)
    clues.messages += signature.raw_messages
    for package, depth in signature.library_packages.items():
        name = package.lower().replace("-", "_")
        weight = signature.weight * max(MIN_DEPTH_WEIGHT, DEPTH_DECAY**depth)
        if clues.libraries.get(name, (0.0, ""))[0] < weight:
            clues.libraries[name] = (weight, label)


def _judge_infrastructure(clues: ErrorClues, weighted: list[Signature]) -> None:
    """Whether most of the incident's errors read as a failure outside the code. The service's own
    5xx access lines are the symptom, not a cause: they count on neither side."""
    causes = [signature for signature in weighted if signature.origin != "http"]
    infrastructure_weight = sum(s.weight for s in causes if s.infrastructure)
    total_weight = sum(s.weight for s in causes)
    if total_weight and infrastructure_weight >= INFRASTRUCTURE_SHARE * total_weight:
        strongest = max((s for s in causes if s.infrastructure), key=lambda s: s.weight)
        clues.infrastructure = True
        clues.infrastructure_label = signature_label(strongest)
        clues.external = strongest.external
