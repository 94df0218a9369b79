"""Wave's git-based contracts, as pure checks of what a step changed (paths and contents read as data).

- `source_diff`: at least `min_files` (default 1) changed files match `glob` (on the path or its base
  name) and none of `exclude` (`dir/**`, `**/name`, or a glob on the path or base name).
- `test_diff`: in files matching `test_file_pattern` (default `*_test.go`), the step may net-delete at
  most `max_test_deletions` (default 0) lines matching `test_func_pattern` (Wave's Go default).
- `test_count_baseline`: the same count over the whole tree, against `base_ref` (default the tree before
  the step, Wave's HEAD~1).
The pattern comes from the pipeline (untrusted) and runs on the host: on single lines cut at
`MAX_LINE_CHARS`, and a pattern that repeats a repeating group or refers back is refused.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable

DEFAULT_TEST_FILES = ("*_test.go",)
DEFAULT_TEST_DECLARATION = r"^[ \t]*func[ \t]+(Test|Example|Benchmark|Fuzz)[A-Za-z0-9_]*\b"
MAX_LINE_CHARS = 400
MAX_PATTERN_CHARS = 300


def _go_glob(pattern: str, path: str) -> bool:
    """Go's path.Match, near enough: `*` stays within one folder."""
    regex = fnmatch.translate(pattern).replace(".*", "[^/]*")
    return re.match(regex, path) is not None


def matches_glob(pattern: str, path: str) -> bool:
    return _go_glob(pattern, path) or _go_glob(pattern, posixpath.basename(path))


def excluded(pattern: str, path: str) -> bool:
    if pattern.endswith("/**"):
        prefix = pattern[:-3]
        return path == prefix or path.startswith(prefix + "/")
    if pattern.startswith("**/"):
        suffix = pattern[3:]
        return path == suffix or path.endswith("/" + suffix)
    return matches_glob(pattern, path)


def source_diff_problems(changed: Iterable[str], glob: object, exclude: object, min_files: object) -> list[str]:
    wanted = min_files if isinstance(min_files, int) and min_files > 0 else 1
    exclusions = [str(p) for p in exclude] if isinstance(exclude, list) else []
    qualifying = [
        path for path in changed
        if (not isinstance(glob, str) or not glob or matches_glob(glob, path))
        and not any(excluded(pattern, path) for pattern in exclusions)
    ]
    if len(qualifying) >= wanted:
        return []
    return [f"found {len(qualifying)} qualifying changed source file(s), need at least {wanted}; the step must "
            "change real source files (not only specs or pipeline files)"]


def declaration_pattern(pattern: object) -> re.Pattern:
    """The pipeline's pattern (Go's `(?m)` flag dropped: lines are matched one at a time), or Wave's default."""
    text = pattern if isinstance(pattern, str) and pattern else DEFAULT_TEST_DECLARATION
    if len(text) > MAX_PATTERN_CHARS:
        raise ValueError(f"test_func_pattern is longer than {MAX_PATTERN_CHARS} characters")
    if _NESTED_QUANTIFIER.search(text) or _BACKREFERENCE.search(text):
        # Go's RE2 runs any pattern in linear time; Python's backtracking engine does not, on the host
        raise ValueError("test_func_pattern repeats a group that itself repeats or alternates (or refers back): "
                         "wave-sandbox refuses patterns that can backtrack without end")
    return re.compile(text.replace("(?m)", ""))


_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*(?:[*+?|]|\{\d)(?:[^()\\]|\\.)*\)\s*(?:[*+]|\{\d)")
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")


def is_test_file(path: str, patterns: object) -> bool:
    globs = [str(p) for p in patterns] if isinstance(patterns, list) and patterns else list(DEFAULT_TEST_FILES)
    return any(matches_glob(glob, path.lstrip("*/")) or matches_glob(glob.lstrip("*/"), path) for glob in globs)


def count_declarations(content: bytes | None, pattern: re.Pattern) -> int:
    if not content:
        return 0
    lines = content.decode("utf-8", "replace").splitlines()
    return sum(1 for line in lines if pattern.search(line[:MAX_LINE_CHARS]))


def net_deletion_problem(kind: str, before: int, after: int, allowed: object, against: str) -> list[str]:
    limit = allowed if isinstance(allowed, int) and allowed >= 0 else 0
    net = before - after
    if net <= limit:
        return []
    return [f"{kind}: the result has {after} test declaration(s) against {before} in {against} (net deletion "
            f"{net}, at most {limit} allowed); replace removed tests, do not delete them"]
