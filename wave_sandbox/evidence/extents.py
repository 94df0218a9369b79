"""The lines of the function around a stack frame, in any language the traces come from.

Python is parsed (frames.find_function_extent). Brace languages (Java, Kotlin, Go, JavaScript,
TypeScript, C#, Rust, PHP, Scala) are read by their text: the nearest declaration of the function's
name at or above the frame's line, to its matching closing brace. Ruby: `def name` to the `end` at
the same indentation. Strings and comments holding braces can fool the brace count; a frame whose
line falls outside what was found gets no extent (the exact-line evidence still applies).
"""

from __future__ import annotations

import re

from wave_sandbox.evidence.frames import FunctionExtent, find_function_extent

__all__ = ["function_extent"]

BRACE_SUFFIXES = (".java", ".kt", ".kts", ".scala", ".go", ".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".mts",
                  ".cts", ".cs", ".rs", ".php", ".swift", ".c", ".cc", ".cpp", ".h", ".hpp")
CALL_ONLY = re.compile(r"^\s*(?:return\b|if\b|else\b|for\b|while\b|switch\b|\w+\s*=(?!=)|[\w.]+\()")
DECLARATION_WORDS = re.compile(r"\b(?:func|fn|function|def|fun|public|private|protected|static|async|override|"
                               r"internal|void|get|set|impl)\b|\)\s*[:{]|=>\s*\{?\s*$")
MAX_FUNCTION_LINES = 2000


def function_extent(path: str, source: str, function: str, line: int) -> FunctionExtent | None:
    """(name, first line, last line) of the function named in a frame (`Class.method` or `method`)."""
    if path.endswith(".py"):
        return find_function_extent(source, function, line)
    name = function.rsplit(".", 1)[-1]
    if not re.fullmatch(r"[A-Za-z_$][\w$]*", name or ""):
        return None
    lines = source.splitlines()
    if path.endswith(".rb"):
        return _ruby_extent(lines, name, line)
    if path.endswith(BRACE_SUFFIXES):
        return _brace_extent(lines, name, line)
    return None


def _declarations(lines: list[str], pattern: re.Pattern, line: int) -> list[int]:
    """Indexes of the declaring lines, the nearest at or above `line` first (all of them when line is 0)."""
    found = [index for index, text in enumerate(lines) if pattern.search(text)]
    if line <= 0:
        return found
    above = [index for index in found if index < line]
    return sorted(above, reverse=True)


def _brace_extent(lines: list[str], name: str, line: int) -> FunctionExtent | None:
    pattern = re.compile(r"(?<![\w$.])" + re.escape(name) + r"\s*(?:<[^>]*>)?\s*(?:=\s*(?:async\s*)?)?\(")
    for index in _declarations(lines, pattern, line):
        text = lines[index]
        if text.rstrip().endswith(";") or (CALL_ONLY.match(text) and not DECLARATION_WORDS.search(text)):
            continue
        last = _closing_brace(lines, index)
        if last is not None and (line <= 0 or index + 1 <= line <= last + 1):
            return FunctionExtent(name, index + 1, last + 1)
    return None


def _closing_brace(lines: list[str], start: int) -> int | None:
    depth, opened = 0, False
    for index in range(start, min(len(lines), start + MAX_FUNCTION_LINES)):
        for character in _code_of(lines[index]):
            if character == "{":
                depth, opened = depth + 1, True
            elif character == "}":
                depth -= 1
                if opened and depth == 0:
                    return index
        if not opened and index > start + 3:
            return None
    return None


def _code_of(text: str) -> str:
    """The line without string literals and a trailing // comment (good enough to count braces)."""
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', text)
    return text.split("//", 1)[0]


def _ruby_extent(lines: list[str], name: str, line: int) -> FunctionExtent | None:
    pattern = re.compile(r"^(\s*)def\s+(?:self\.)?" + re.escape(name) + r"\b")
    for index in _declarations(lines, pattern, line):
        indent = pattern.match(lines[index]).group(1)
        for end in range(index + 1, len(lines)):
            if lines[end].startswith(indent + "end") and (len(lines[end]) == len(indent) + 3 or not lines[end][len(indent) + 3].isalnum()):
                if line <= 0 or index + 1 <= line <= end + 1:
                    return FunctionExtent(name, index + 1, end + 1)
                break
    return None
