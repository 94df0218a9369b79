"""The in-container artifact reader, run on a host folder (its reading half only), and the host's parsing.

Stopping processes is never tried here: on a host it would signal the user's own processes. It is
proved in containers (tests/integration/sandbox, tests/security/test_collection_race.py).
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from tests.unit.import_rules import imported_modules
from wave_sandbox.errors import SandboxError
from wave_sandbox.sandbox import artifact_reader, docker_collect

MAX_BYTES = 100


@pytest.fixture
def root(tmp_path) -> Path:
    (tmp_path / "output" / "deep").mkdir(parents=True)
    (tmp_path / "output" / "good.md").write_bytes(b"good\n")
    (tmp_path / "output" / "deep" / "binary.bin").write_bytes(bytes(range(100)))
    (tmp_path / "output" / "empty.md").write_bytes(b"")
    (tmp_path / "output" / "big.md").write_bytes(b"x" * (MAX_BYTES + 1))
    (tmp_path / "output" / "link.md").symlink_to(tmp_path / "output" / "good.md")
    (tmp_path / "output" / "hard.md").write_bytes(b"shared")
    os.link(tmp_path / "output" / "hard.md", tmp_path / "output" / "hard-too.md")
    os.mkfifo(tmp_path / "output" / "fifo.md")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.md").write_bytes(b"secret")
    (tmp_path / "linked").symlink_to(tmp_path / "outside")
    (tmp_path / "output" / "inner-link").symlink_to(tmp_path / "outside")
    return tmp_path


def read(root: Path, paths: list[str]) -> list[tuple[str, bytes]]:
    stream = io.BytesIO()
    artifact_reader.read_all(str(root), MAX_BYTES, paths, stream)
    return docker_collect._frames(stream.getvalue(), len(paths))


def test_regular_files_come_back_byte_for_byte(root):
    assert read(root, ["output/good.md", "./output/deep/binary.bin", "output/empty.md"]) == [
        ("data 5", b"good\n"), ("data 100", bytes(range(100))), ("data 0", b""),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("linked/secret.md", "parentlink"),
        ("output/inner-link/secret.md", "parentlink"),
        ("output/nothing.md", "missing"),
        ("nowhere/x.md", "missing"),
        ("output/good.md/x", "missing"),
    ],
)
def test_links_on_the_way_and_missing_files_are_reported(root, path, expected):
    assert read(root, [path]) == [(expected, b"")]


@pytest.mark.parametrize(
    ("path", "kind", "links"),
    [
        ("output/link.md", stat.S_IFLNK, 1),
        ("output/hard.md", stat.S_IFREG, 2),
        ("output/fifo.md", stat.S_IFIFO, 1),
        ("output/deep", stat.S_IFDIR, 2),
        ("output/big.md", stat.S_IFREG, 1),
    ],
)
def test_files_not_taken_are_reported_by_their_lstat_without_content(root, path, kind, links):
    [(header, content)] = read(root, [path])
    word, mode, link_count, _size = header.split()
    assert (word, stat.S_IFMT(int(mode)), int(link_count), content) == ("stat", kind, links, b"")


def test_the_host_turns_each_report_into_the_refusal_it_always_gave(root):
    paths = ["output/link.md", "output/hard.md", "output/fifo.md", "output/deep", "output/big.md",
             "linked/secret.md", "output/nothing.md", "output/good.md"]  # fmt: skip
    results = [docker_collect._collected_file(p, h, c, MAX_BYTES) for p, (h, c) in zip(paths, read(root, paths))]
    reasons = [result.refusal for result in results]
    assert "symbolic link" in reasons[0] and "hard link" in reasons[1] and "not a regular file" in reasons[2]
    assert "directory" in reasons[3] and f"is {MAX_BYTES + 1} bytes, over the limit" in reasons[4]
    assert "lies under a symbolic link" in reasons[5] and results[6].missing
    assert results[7].content == b"good\n" and results[7].refusal is None


def test_a_reader_error_is_a_refusal_naming_it():
    refused = docker_collect._collected_file("output/x.md", "error Permission denied", b"", MAX_BYTES)
    assert refused.content is None and refused.refusal == "could not be read (Permission denied)"


@pytest.mark.parametrize(
    "output", [b"data 5\nabc", b"missing\n", b"data 1\nab\nmissing\n", b"", b"data 3\nabcextra"]
)
def test_malformed_reader_output_is_a_sandbox_error(output):
    with pytest.raises(SandboxError):
        docker_collect._frames(output, 2 if output.startswith(b"missing") else 1)


def test_the_reader_runs_isolated_and_stops_processes_before_reading():
    argv = docker_collect.reader_command(["output/a.md"], 10)
    assert argv[:3] == ["python3", "-I", "-c"] and argv[4:] == ["--stop-others", "/workspace", "10", "output/a.md"]


def test_the_reader_imports_only_the_standard_library():
    source = Path(artifact_reader.__file__)
    modules = {module.split(".")[0] for _, module in imported_modules(source)}
    assert modules <= {"__future__", "errno", "os", "signal", "stat", "sys", "time"}, modules
