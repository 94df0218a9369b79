"""The file tools: read_file, write_file and edit_file.

Permissions are the kernel's business (read-only mounts fail with EROFS); these tools only report
the operating system's answer, with the path it concerns.
"""

from __future__ import annotations

import itertools
import os
import stat

from wave_sandbox.agent.tools.output import (
    BINARY_SNIFF_BYTES,
    ToolContext,
    ToolFailure,
    ToolResult,
    describe_os_error,
    looks_binary,
    truncate_output,
)

DEFAULT_READ_LIMIT_LINES = 2000


def read_file(arguments: dict, context: ToolContext) -> ToolResult:
    """Lines offset..offset+limit-1 (1-based), numbered like `cat -n`, with a hint when more follow."""
    path = context.resolve(arguments["path"])
    offset = arguments.get("offset") or 1
    limit = arguments.get("limit") or DEFAULT_READ_LIMIT_LINES
    require_regular_file(path)
    try:
        with open(path, "rb") as handle:
            refuse_binary(path, handle.read(BINARY_SNIFF_BYTES))
            handle.seek(0)
            # One line past the window tells whether more follow, without reading the rest.
            lines = list(itertools.islice(handle, offset - 1, offset + limit))
            if not lines and offset > 1:
                handle.seek(0)
                raise ToolFailure(f"{path} has {sum(1 for _ in handle)} lines; offset {offset} is past the end")
    except OSError as exc:
        raise ToolFailure(describe_os_error(exc, path)) from exc
    return ToolResult(truncate_output(number_lines(lines, offset, limit), context.output_limit))


def require_regular_file(path: str) -> None:
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise ToolFailure(describe_os_error(exc, path)) from exc
    if stat.S_ISDIR(mode):
        raise ToolFailure(f"{path} is a directory; use list_files to see what it holds")
    if not stat.S_ISREG(mode):
        raise ToolFailure(f"{path} is not a regular file (a device, pipe or socket); it was not read")


def refuse_binary(path: str, sample: bytes) -> None:
    if looks_binary(sample):
        size = os.path.getsize(path)
        raise ToolFailure(
            f"{path} is a binary file ({size} bytes); not shown. Inspect it with bash, e.g. `xxd {path} | head`"
        )


def number_lines(lines: list[bytes], offset: int, limit: int) -> str:
    if not lines:
        return "(empty file)"
    shown = lines[:limit]
    numbered = [
        f"{number:>6}\t{line.decode('utf-8', errors='replace').rstrip(chr(10)).rstrip(chr(13))}"
        for number, line in enumerate(shown, start=offset)
    ]
    if len(lines) > limit:
        numbered.append(f"[... more lines follow; continue with offset={offset + limit} ...]")
    return "\n".join(numbered)


def write_file(arguments: dict, context: ToolContext) -> ToolResult:
    """Create or replace the file with `content` (UTF-8), creating missing parent folders."""
    path = context.resolve(arguments["path"])
    data = arguments["content"].encode("utf-8", errors="replace")
    try:
        if not os.path.lexists(os.path.dirname(path)):
            # A parent that exists as a file is left for open() to report as "Not a directory".
            os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise ToolFailure(describe_os_error(exc, exc.filename or path)) from exc
    return ToolResult(f"wrote {len(data)} bytes to {path}")


def edit_file(arguments: dict, context: ToolContext) -> ToolResult:
    """Replace old_text, which must occur exactly once, with new_text."""
    path = context.resolve(arguments["path"])
    old_text, new_text = arguments["old_text"], arguments["new_text"]
    if not old_text:
        raise ToolFailure("old_text is empty; give the exact text to replace (write_file creates new files)")
    text = read_text_for_edit(path)
    matches = count_occurrences(text, old_text)
    if matches == 0:
        raise ToolFailure(
            f"old_text not found in {path}; read the file again and copy the text exactly, whitespace included"
        )
    if matches > 1:
        raise ToolFailure(
            f"old_text occurs {matches} times in {path}; include more surrounding lines so it matches exactly once"
        )
    line_number = text[: text.index(old_text)].count("\n") + 1
    write_text_after_edit(path, text.replace(old_text, new_text, 1))
    return ToolResult(f"edited {path}: replaced 1 occurrence at line {line_number}")


def read_text_for_edit(path: str) -> str:
    require_regular_file(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ToolFailure(describe_os_error(exc, path)) from exc
    refuse_binary(path, data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ToolFailure(f"{path} is not UTF-8 text; edit it with bash instead") from exc


def write_text_after_edit(path: str, text: str) -> None:
    try:
        # Writing in place keeps the file's mode and owner; bytes keep its line endings as they were.
        with open(path, "wb") as handle:
            handle.write(text.encode("utf-8"))
    except OSError as exc:
        raise ToolFailure(describe_os_error(exc, path)) from exc


def count_occurrences(text: str, fragment: str) -> int:
    """Overlapping matches count too: each is a place the edit could land."""
    count, start = 0, text.find(fragment)
    while start != -1:
        count += 1
        start = text.find(fragment, start + 1)
    return count
