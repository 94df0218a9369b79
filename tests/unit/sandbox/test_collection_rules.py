"""Collection rules on data built in memory: names and stat results reported from a container."""

from __future__ import annotations

import stat

import pytest

from wave_sandbox.sandbox import collection


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("", "empty"),
        ("../etc/passwd", "'..'"),
        ("output/../../x", "'..'"),
        ("/etc/passwd", "absolute"),
        ("output/a\nb.md", "control characters"),
        ("output/\x1b[2Jclear.md", "control characters"),
        ("output/\x9bx.md", "control characters"),
        ("output/", "folder"),
        (".", "folder"),
    ],
)
def test_hostile_names_are_refused(path, fragment):
    assert fragment in collection.refusal_for_name(path)


@pytest.mark.parametrize(
    "path", ["output/triage.json", "report.md", "./output/x.md", "dir/ünïcode name.md", "a..b.md"]
)
def test_ordinary_names_pass(path):
    assert collection.refusal_for_name(path) is None


@pytest.mark.parametrize(
    ("mode", "links", "size", "fragment"),
    [
        (stat.S_IFLNK | 0o777, 1, 10, "symbolic link"),
        (stat.S_IFDIR | 0o755, 2, 10, "directory"),
        (stat.S_IFIFO | 0o644, 1, 0, "not a regular file"),
        (stat.S_IFCHR | 0o644, 1, 0, "not a regular file"),
        (stat.S_IFSOCK | 0o644, 1, 0, "not a regular file"),
        (stat.S_IFREG | 0o644, 2, 10, "hard link"),
        (stat.S_IFREG | 0o644, 1, 101, "over the limit of 100"),
    ],
)
def test_stat_results_of_hostile_files_are_refused(mode, links, size, fragment):
    assert fragment in collection.refusal_for_stat(mode, links, size, max_bytes=100)


def test_a_regular_file_within_the_limit_passes_its_stat():
    assert collection.refusal_for_stat(stat.S_IFREG | 0o600, 1, 100, max_bytes=100) is None
