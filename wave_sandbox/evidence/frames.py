"""Stack-trace paths mapped to repository files, and the code around a frame.

A deployed path rarely equals a repository path: `/srv/orders-service/orders/db.py`,
`/app/orders/db.py` and `/usr/local/lib/python3.11/site-packages/orders/db.py` all mean
`orders/db.py`. The repository file whose path shares the longest suffix of components with the
frame's path wins, in every language: a Java frame's package path (`com/shop/Cart.java`) maps to
`src/main/java/com/shop/Cart.java`, a Go module path (`github.com/shop/inv/internal/x.go`) to
`internal/x.go`, `/usr/src/app/src/x.js` to `src/x.js`. Below a third-party folder (`site-packages`,
`node_modules`, `gems`, `vendor`, Go's module cache, Cargo's registry) the whole rest must match, so
that another package's `db.py` does not map to the repository's; standard libraries never map
(library_paths.py). Compiled JavaScript maps to its TypeScript source by name, its line unknown.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from wave_sandbox.evidence import library_paths
from wave_sandbox.evidence.gitrepo import GitRepository

__all__ = ["FunctionExtent", "RepositoryFiles", "find_function_extent", "library_package"]

PSEUDO_PATH = re.compile(r"^<.*>$|^(?:node|native|internal):|^\[")
COMPILED_SCRIPT = re.compile(r"\.(?:c|m)?js$")
TYPESCRIPT_SUFFIXES = (".ts", ".tsx", ".mts", ".cts")


@dataclass(frozen=True)
class FunctionExtent:
    """The lines (1-based, inclusive) of the function holding a frame's line, at one revision."""

    name: str
    first_line: int
    last_line: int


def _components(path: str) -> list[str]:
    return [part for part in path.replace("\\", "/").split("/") if part not in ("", ".")]


def library_package(path: str) -> str | None:
    """The third-party package of a frame's file (`requests` for .../site-packages/requests/models.py)."""
    return library_paths.library_package(_components(path))


class RepositoryFiles:
    """The files of one revision, indexed by name, with a cache of frame paths already mapped."""

    def __init__(self, paths: list[str]):
        self.paths = set(paths)
        self.by_name: dict[str, list[list[str]]] = {}
        for path in paths:
            parts = _components(path)
            self.by_name.setdefault(parts[-1], []).append(parts)
        self.cache: dict[str, str | None] = {}
        self.compiled: dict[str, str] = {}
        """Frame paths of compiled JavaScript placed in their TypeScript source by name: {frame path: source}."""

    @classmethod
    def at_revision(cls, repository: GitRepository, revision: str | None) -> "RepositoryFiles":
        if revision is None:
            return cls([])
        listing = repository.run(["ls-tree", "-r", "-z", "--name-only", revision])
        return cls([name.decode("utf-8", "replace") for name in listing.split(b"\0") if name])

    def map_frame_path(self, frame_path: str) -> str | None:
        """The repository file a stack-trace path is, or None (library, standard library, unknown)."""
        if frame_path not in self.cache:
            self.cache[frame_path] = self._map(frame_path)
        return self.cache[frame_path]

    def _map(self, frame_path: str) -> str | None:
        if PSEUDO_PATH.match(frame_path.strip()):
            return None
        parts = _components(frame_path)
        if not parts or library_paths.is_standard_library(frame_path, parts):
            return None
        library_rest = library_paths.library_remainder(parts)
        if parts[-1] not in self.by_name:
            return self._map_compiled_script(frame_path, parts) if library_rest is None else None
        candidates = self.by_name[parts[-1]]
        if library_rest is not None:
            return self._map_library_path(library_rest, candidates)
        scored = sorted(((_shared_suffix(parts, candidate), candidate) for candidate in candidates), reverse=True)
        best_score, best = scored[0]
        tied = [candidate for score, candidate in scored if score == best_score]
        if best_score == 1 and len(candidates) > 1 and len(best) > 1:
            return None  # only the file name matches, and several files have it
        return "/".join(min(tied, key=len)) if best_score >= 1 else None

    def _map_compiled_script(self, frame_path: str, parts: list[str]) -> str | None:
        """A frame in compiled JavaScript (`dist/cart.js`) whose TypeScript source (`src/cart.ts`) is in
        the repository: the source file, its line unknown without a source map (see `compiled`)."""
        if not COMPILED_SCRIPT.search(parts[-1]):
            return None
        stem = COMPILED_SCRIPT.sub("", parts[-1])
        for suffix in TYPESCRIPT_SUFFIXES:
            mapped = self._map("/".join(parts[:-1] + [stem + suffix])) if stem + suffix in self.by_name else None
            if mapped is not None:
                self.compiled[frame_path] = mapped
                return mapped
        return None

    @staticmethod
    def _map_library_path(rest: list[str], candidates: list[list[str]]) -> str | None:
        """Below site-packages the whole remaining path must match (src layouts may add a prefix)."""
        if not rest:  # the standard library is never the repository's code
            return None
        matching = [candidate for candidate in candidates if candidate[-len(rest):] == rest]
        if len(rest) == 1:
            matching = [candidate for candidate in matching if len(candidate) == 1]
        return "/".join(min(matching, key=len)) if matching else None


def _shared_suffix(first: list[str], second: list[str]) -> int:
    shared = 0
    for left, right in zip(reversed(first), reversed(second)):
        if left != right:
            break
        shared += 1
    return shared


def find_function_extent(source: str, function: str, line: int) -> FunctionExtent | None:
    """The innermost Python function or class named `function` around `line` (else the first of that
    name); None when the file does not parse or holds no such function."""
    if function in ("<module>", "") or function.startswith("<"):
        return None
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    named = [
        node
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == function.split(".")[-1]
    ]
    if not named:
        return None
    around = [node for node in named if _first_line(node) <= line <= node.end_lineno]
    chosen = max(around, key=_first_line) if around else named[0]
    return FunctionExtent(chosen.name, _first_line(chosen), chosen.end_lineno)


def _first_line(node: ast.AST) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno] + [decorator.lineno for decorator in decorators])
