"""Collection rules on data built in memory: names, stat results and tar streams from a container."""

from __future__ import annotations

import io
import stat
import tarfile

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


def archive(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, content in members:
            tar.addfile(info, io.BytesIO(content) if content is not None else None)
    return buffer.getvalue()


def member(
    name: str, kind: bytes = tarfile.REGTYPE, content: bytes = b"", linkname: str = ""
) -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    info.size = len(content) if kind == tarfile.REGTYPE else 0
    return info, content if kind == tarfile.REGTYPE else None


def test_the_content_of_one_regular_member_is_returned():
    data = bytes(range(256))
    assert collection.read_single_file_archive(archive(member("x.bin", content=data)), "x.bin", 256) == (
        data,
        None,
    )


@pytest.mark.parametrize(
    ("members", "fragment"),
    [
        ([member("x.md", tarfile.SYMTYPE, linkname="/etc/passwd")], "symbolic link"),
        ([member("x.md", tarfile.LNKTYPE, linkname="other.md")], "hard link"),
        ([member("x.md", tarfile.FIFOTYPE)], "not a regular file"),
        ([member("x.md", tarfile.CHRTYPE)], "not a regular file"),
        ([member("x.md", tarfile.DIRTYPE)], "directory"),
        ([member("../x.md", content=b"a")], "another name"),
        ([member("y.md", content=b"a")], "another name"),
        ([member("x.md", content=b"a" * 11)], "over the limit of 10"),
        ([member("x.md", content=b"a"), member("x.md", content=b"b")], "not a single file"),
        ([], "not a single file"),
    ],
)
def test_hostile_archives_are_refused(members, fragment):
    content, reason = collection.read_single_file_archive(archive(*members), "x.md", 10)
    assert content is None and fragment in reason


def test_a_corrupt_archive_is_refused_not_raised():
    content, reason = collection.read_single_file_archive(b"\x01" * 1024, "x.md", 10)
    assert content is None and "could not be read" in reason
