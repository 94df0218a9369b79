"""Where a stack frame's file lives when it is not the service's own code: a third-party package,
or a language's standard library.

Third-party code sits below a folder each ecosystem names: `site-packages` (Python), `node_modules`
(Node), `gems` (Ruby), `vendor` (PHP, Go), Go's module cache (`pkg/mod/MODULE@VERSION/`), Cargo's
registry (`.cargo/registry/src/INDEX/CRATE-VERSION/`). Below such a folder a frame maps to the
repository only when the whole rest of its path matches (a vendored copy). Standard libraries never map.
"""

from __future__ import annotations

import re

__all__ = ["is_standard_library", "library_package", "library_remainder"]

LIBRARY_FOLDERS = {"site-packages", "dist-packages", "node_modules", "gems", "vendor"}
PYTHON_LIBRARY_FOLDER = re.compile(r"^python\d+(?:\.\d+)?$")
STANDARD_LIBRARY = re.compile(
    r"^/rustc/|(?:^|/)(?:go(?:-\d[\d.]*)?|goroot|GOROOT)/src/|^/usr/(?:local/)?lib/ruby/\d|^/usr/share/php/|"
    r"^(?:node|internal)[:/]|^/usr/share/dotnet/|^java\.base/"
)
VERSION_SUFFIX = re.compile(r"-v?\d[\w.\-+]*$")
# Go's standard packages, as -trimpath writes their files (`net/http/server.go`).
GO_STANDARD_TOPS = {
    "archive", "bufio", "bytes", "cmp", "compress", "container", "context", "crypto", "database", "debug",
    "embed", "encoding", "errors", "expvar", "flag", "fmt", "go", "hash", "html", "image", "internal", "io",
    "iter", "log", "maps", "math", "mime", "net", "os", "path", "plugin", "reflect", "regexp", "runtime",
    "slices", "sort", "strconv", "strings", "sync", "syscall", "testing", "text", "time", "unicode", "unique",
    "unsafe",
}  # fmt: skip


def is_standard_library(path: str, parts: list[str]) -> bool:
    """A file of a language's own library: Python's lib/pythonX.Y, Go's GOROOT (or a -trimpath
    standard package), Rust's /rustc/HASH, Ruby's and PHP's system folders, Node's `node:` modules."""
    for index in range(len(parts) - 1, 0, -1):
        if PYTHON_LIBRARY_FOLDER.match(parts[index]) and parts[index - 1].startswith("lib"):
            return not any(part in LIBRARY_FOLDERS for part in parts[index:])
    if STANDARD_LIBRARY.search(path.replace("\\", "/")):
        return True
    return parts[-1].endswith(".go") and not path.startswith("/") and len(parts) > 1 and parts[0] in GO_STANDARD_TOPS


def library_remainder(parts: list[str]) -> list[str] | None:
    """The path below the innermost third-party folder, None when the file is not third-party code."""
    for index in range(len(parts) - 1, -1, -1):
        if parts[index] in LIBRARY_FOLDERS:
            return parts[index + 1:]
        if parts[index] == "mod" and index > 0 and parts[index - 1] == "pkg":
            return [_without_version(part) for part in parts[index + 1:]]
        if parts[index] == "registry" and index > 0 and parts[index - 1] == ".cargo":
            return parts[index + 3:]  # registry/src/INDEX/CRATE-VERSION/...
    return None


def library_package(parts: list[str]) -> str | None:
    """The third-party package a frame's file belongs to: `requests`, `axios`, `rack`, `pq`, `tokio`."""
    for index in range(len(parts) - 2, -1, -1):
        folder = parts[index]
        if folder in ("site-packages", "dist-packages"):
            top = parts[index + 1]
            return top[:-3] if top.endswith(".py") else top
        if folder == "node_modules":
            scoped = parts[index + 1].startswith("@") and index + 2 < len(parts)
            return parts[index + 2] if scoped else parts[index + 1]
        if folder == "gems":
            return VERSION_SUFFIX.sub("", parts[index + 1])
        if folder == "vendor" and index + 2 < len(parts):
            return parts[index + 2] if "." not in parts[index + 1] else parts[min(index + 3, len(parts) - 1)]
        if folder == "mod" and index > 0 and parts[index - 1] == "pkg":
            module = next((part for part in parts[index + 1:] if "@" in part), None)
            return module.split("@")[0] if module else None
        if folder == "registry" and index > 0 and parts[index - 1] == ".cargo" and index + 3 < len(parts):
            return VERSION_SUFFIX.sub("", parts[index + 3])
    return None


def _without_version(part: str) -> str:
    return part.split("@")[0]
