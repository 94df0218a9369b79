"""The search tools: list_files and grep (ripgrep when installed, else a Python walk with `re`).

Both search everything under the path except `.git` folders, hidden and git-ignored files included,
so that the two grep implementations agree and logs that a repo ignores can still be searched.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import threading

from wave_sandbox.agent.tools.output import (
    BINARY_SNIFF_BYTES,
    ToolContext,
    ToolFailure,
    ToolResult,
    looks_binary,
    truncate_output,
)

MAX_LISTED_FILES = 1000
MAX_GREP_MATCHES = 500
MAX_GREP_LINE_CHARS = 300
SKIPPED_FOLDERS = {".git"}
GREP_TIMEOUT_S = 60.0
# (matching lines, a note saying why they are not all of them, or None)
GrepOutcome = tuple[list[str], str | None]
TOO_MANY_MATCHES_NOTE = "[... more matches not shown (first {count} only); narrow the pattern, path or glob ...]"


def list_files(arguments: dict, context: ToolContext) -> ToolResult:
    """Files under the path (default: the working directory), recursively, sorted, relative to it."""
    root = context.resolve(arguments.get("path") or ".")
    if not os.path.exists(root):
        raise ToolFailure(f"No such file or directory: {root}")
    if not os.path.isdir(root):
        return ToolResult(root)
    files = [relative for relative in walk_files(root) if matches_glob(relative, arguments.get("glob"))]
    lines = [f"{root}: {len(files)} file(s)" + (f" matching {arguments['glob']}" if arguments.get("glob") else "")]
    lines += files[:MAX_LISTED_FILES]
    if len(files) > MAX_LISTED_FILES:
        lines.append(f"[... {len(files) - MAX_LISTED_FILES} more files not shown; narrow the path or glob ...]")
    return ToolResult(truncate_output("\n".join(lines), context.output_limit))


def walk_files(root: str) -> list[str]:
    """Relative paths of files and symlinks under root, sorted; .git folders skipped, links not followed."""
    found = []
    for folder, subfolders, filenames in os.walk(root):
        subfolders[:] = [name for name in subfolders if name not in SKIPPED_FOLDERS]
        relative_folder = os.path.relpath(folder, root)
        found += [os.path.normpath(os.path.join(relative_folder, name)) for name in filenames]
        # os.walk lists a symlink to a folder among the folders; it is an entry here, not a place to descend.
        found += [
            os.path.normpath(os.path.join(relative_folder, name))
            for name in subfolders
            if os.path.islink(os.path.join(folder, name))
        ]
    return sorted(found)


def matches_glob(relative_path: str, pattern: str | None) -> bool:
    """fnmatch on the relative path or the file name; `*` also crosses `/`, and a leading `**/` is optional."""
    if not pattern:
        return True
    patterns = {pattern, pattern[3:] if pattern.startswith("**/") else pattern}
    name = os.path.basename(relative_path)
    return any(fnmatch.fnmatchcase(relative_path, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


def grep(arguments: dict, context: ToolContext) -> ToolResult:
    """Lines matching the regular expression, as `file:line:text`, capped."""
    shown_path = arguments.get("path") or "."
    if not os.path.exists(context.resolve(shown_path)):
        raise ToolFailure(f"No such file or directory: {context.resolve(shown_path)}")
    search_files = grep_with_ripgrep if shutil.which("rg") else grep_with_python
    matches, note = search_files(arguments["pattern"], shown_path, arguments.get("glob"), context)
    if not matches and not note:
        return ToolResult("no matches")
    return ToolResult(truncate_output("\n".join(matches + ([note] if note else [])), context.output_limit))


def grep_with_ripgrep(pattern: str, shown_path: str, glob: str | None, context: ToolContext) -> GrepOutcome:
    """rg, stopped once it has printed more lines than are shown, or when it runs too long."""
    # --no-messages silences unreadable files (so stderr cannot fill up and stall rg) but keeps regex errors;
    # --sort path makes the answer the same from one call to the next.
    command = ["rg", "--line-number", "--no-heading", "--with-filename", "--color", "never", "--hidden", "--no-ignore",
               "--no-messages", "--sort", "path", "--glob", "!.git", f"--max-columns={MAX_GREP_LINE_CHARS}",
               "--max-columns-preview", *(["--glob", glob] if glob else []), "--regexp", pattern, "--", shown_path]
    process = subprocess.Popen(command, cwd=context.workdir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, errors="replace")
    timeout_s = grep_timeout(context)
    stopped_by_watchdog = threading.Event()
    watchdog = threading.Timer(timeout_s, lambda: (stopped_by_watchdog.set(), process.kill()))
    watchdog.start()
    try:
        matches = read_first_lines(process.stdout, MAX_GREP_MATCHES + 1)
    finally:
        watchdog.cancel()
        process.kill()  # enough lines read: rg need not finish
        _, errors = process.communicate()
    if not matches and process.returncode == 2:
        raise ToolFailure(f"rg failed: {errors.strip()[:500]}")
    if len(matches) > MAX_GREP_MATCHES:
        return matches[:MAX_GREP_MATCHES], TOO_MANY_MATCHES_NOTE.format(count=MAX_GREP_MATCHES)
    if stopped_by_watchdog.is_set():
        return matches, f"[... search stopped after {timeout_s:g} s; narrow the path or glob ...]"
    return matches, None


def grep_timeout(context: ToolContext) -> float:
    seconds_left = context.seconds_left()
    return GREP_TIMEOUT_S if seconds_left is None else max(0.1, min(GREP_TIMEOUT_S, seconds_left))


def read_first_lines(stream, count: int) -> list[str]:
    lines = []
    for line in stream:
        lines.append(line.rstrip("\n"))
        if len(lines) >= count:
            break
    return lines


def grep_with_python(pattern: str, shown_path: str, glob: str | None, context: ToolContext) -> GrepOutcome:
    """The fallback when rg is missing: a sorted walk with Python's `re`, binary files skipped."""
    try:
        expression = re.compile(pattern)
    except re.error as exc:
        raise ToolFailure(f"invalid regular expression {pattern!r}: {exc}") from exc
    matches: list[str] = []
    for path, shown_file in files_to_search(context.resolve(shown_path), shown_path, glob):
        matches += grep_one_file(expression, path, shown_file)
        if len(matches) > MAX_GREP_MATCHES:
            return matches[:MAX_GREP_MATCHES], TOO_MANY_MATCHES_NOTE.format(count=MAX_GREP_MATCHES)
    return matches, None


def files_to_search(root: str, shown_root: str, glob: str | None) -> list[tuple[str, str]]:
    """(path to open, path to print) pairs; a file given directly is searched whatever the glob says, as rg does."""
    if not os.path.isdir(root):
        return [(root, shown_root)]
    return [
        (os.path.join(root, relative), os.path.join(shown_root, relative))
        for relative in walk_files(root)
        if matches_glob(relative, glob)
    ]


def grep_one_file(expression: re.Pattern, path: str, shown_file: str) -> list[str]:
    try:
        with open(path, "rb") as handle:
            if looks_binary(handle.read(BINARY_SNIFF_BYTES)):
                return []
            handle.seek(0)
            return [
                f"{shown_file}:{number}:{text[:MAX_GREP_LINE_CHARS]}"
                for number, text in enumerate(decoded_lines(handle), start=1)
                if expression.search(text)
            ]
    except OSError:
        return []  # unreadable files are skipped, as rg --no-messages skips them


def decoded_lines(handle):
    for raw in handle:
        yield raw.decode("utf-8", errors="replace").rstrip("\n").rstrip("\r")
