from wave_sandbox.agent.tools import execute_tool
from wave_sandbox.agent.tools.registry import TOOL_NAMES


def call(context, name, **arguments):
    return execute_tool(name, arguments, TOOL_NAMES, context)


# read_file

def test_read_file_numbers_lines_and_resolves_relative_paths(context, workdir):
    (workdir / "app.py").write_text("import os\n\nprint(os.getcwd())\n")
    result = call(context, "read_file", path="app.py")
    assert (result.is_error, result.content) == (False, "     1\timport os\n     2\t\n     3\tprint(os.getcwd())")


def test_read_file_offset_and_limit_select_lines_and_point_to_the_rest(context, workdir):
    (workdir / "log.txt").write_text("".join(f"line {n}\n" for n in range(1, 11)))
    result = call(context, "read_file", path=str(workdir / "log.txt"), offset=4, limit=2)
    assert result.content == "     4\tline 4\n     5\tline 5\n[... more lines follow; continue with offset=6 ...]"
    assert call(context, "read_file", path="log.txt", offset=10).content == "    10\tline 10"


def test_read_file_offset_past_the_end_is_an_error(context, workdir):
    (workdir / "short.txt").write_text("one\ntwo\n")
    result = call(context, "read_file", path="short.txt", offset=5)
    assert (result.is_error, result.content) == (True, f"{workdir / 'short.txt'} has 2 lines; offset 5 is past the end")


def test_read_file_reports_empty_missing_directory_and_binary_files(context, workdir):
    (workdir / "empty.txt").write_bytes(b"")
    (workdir / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100))
    assert call(context, "read_file", path="empty.txt").content == "(empty file)"
    missing = call(context, "read_file", path="nowhere.txt")
    assert (missing.is_error, missing.content) == (True, f"No such file or directory: {workdir / 'nowhere.txt'}")
    folder = call(context, "read_file", path=".")
    assert (folder.is_error, folder.content) == (True, f"{workdir} is a directory; use list_files to see what it holds")
    binary = call(context, "read_file", path="image.png")
    assert binary.is_error is True
    assert binary.content.startswith(f"{workdir / 'image.png'} is a binary file (116 bytes); not shown.")
    assert "PNG" not in binary.content.split("not shown")[0].replace("image.png", "")


def test_read_file_refuses_devices(context):
    result = call(context, "read_file", path="/dev/zero")
    assert (result.is_error, result.content) == (True, "/dev/zero is not a regular file (a device, pipe or socket); it was not read")


def test_read_file_output_is_truncated_with_a_marker(context, workdir):
    (workdir / "big.txt").write_text("x" * 10000)
    result = call(context, "read_file", path="big.txt")
    assert "[... output truncated: 8007 bytes omitted ...]" in result.content  # 7-byte line prefix + 10000 - 2000
    assert len(result.content) < 2100


def test_read_file_shows_invalid_utf8_as_replacement_characters(context, workdir):
    (workdir / "latin1.txt").write_bytes("café\n".encode("latin-1"))
    assert call(context, "read_file", path="latin1.txt").content == "     1\tcaf\ufffd"


# write_file

def test_write_file_creates_parent_folders_and_overwrites(context, workdir):
    first = call(context, "write_file", path="output/deep/triage.json", content='{"severity": "high"}')
    assert (first.is_error, first.content) == (False, f"wrote 20 bytes to {workdir / 'output/deep/triage.json'}")
    call(context, "write_file", path="output/deep/triage.json", content="é")
    assert (workdir / "output/deep/triage.json").read_bytes() == "é".encode()


def test_write_file_reports_the_os_error(context, workdir):
    (workdir / "plain").write_text("a file, not a folder")
    result = call(context, "write_file", path="plain/child.txt", content="x")
    assert (result.is_error, result.content) == (True, f"Not a directory: {workdir / 'plain/child.txt'}")
    folder = call(context, "write_file", path=".", content="x")
    assert (folder.is_error, folder.content) == (True, f"Is a directory: {workdir}")


# edit_file

def test_edit_file_replaces_the_single_occurrence(context, workdir):
    (workdir / "db.py").write_text("def query():\n    return run(sql)\n")
    result = call(context, "edit_file", path="db.py", old_text="run(sql)", new_text="run(sql, timeout=5)")
    assert (result.is_error, result.content) == (False, f"edited {workdir / 'db.py'}: replaced 1 occurrence at line 2")
    assert (workdir / "db.py").read_text() == "def query():\n    return run(sql, timeout=5)\n"


def test_edit_file_refuses_ambiguous_and_missing_text_and_leaves_the_file_alone(context, workdir):
    original = "retry = 1\nretry = 1\n"
    (workdir / "conf.py").write_text(original)
    twice = call(context, "edit_file", path="conf.py", old_text="retry = 1", new_text="retry = 3")
    assert (twice.is_error, twice.content) == (
        True, f"old_text occurs 2 times in {workdir / 'conf.py'}; include more surrounding lines so it matches exactly once")
    overlapping = call(context, "edit_file", path="conf.py", old_text="1\nretry = 1\n", new_text="")
    assert overlapping.is_error is False  # once, even though "retry = 1" alone is ambiguous
    (workdir / "conf.py").write_text(original)
    absent = call(context, "edit_file", path="conf.py", old_text="retries = 1", new_text="x")
    assert absent.is_error and absent.content.startswith(f"old_text not found in {workdir / 'conf.py'}")
    empty = call(context, "edit_file", path="conf.py", old_text="", new_text="x")
    assert empty.is_error and empty.content.startswith("old_text is empty")
    assert (workdir / "conf.py").read_text() == original


def test_edit_file_counts_overlapping_matches(context, workdir):
    (workdir / "a.txt").write_text("aaa")
    result = call(context, "edit_file", path="a.txt", old_text="aa", new_text="b")
    assert result.content.startswith(f"old_text occurs 2 times")


def test_edit_file_keeps_crlf_line_endings(context, workdir):
    (workdir / "win.txt").write_bytes(b"one\r\ntwo\r\n")
    call(context, "edit_file", path="win.txt", old_text="two", new_text="three")
    assert (workdir / "win.txt").read_bytes() == b"one\r\nthree\r\n"


def test_edit_file_refuses_missing_binary_and_non_utf8_files(context, workdir):
    (workdir / "blob.bin").write_bytes(b"ab\x00cd")
    (workdir / "latin1.txt").write_bytes("café".encode("latin-1"))
    missing = call(context, "edit_file", path="gone.py", old_text="a", new_text="b")
    assert (missing.is_error, missing.content) == (True, f"No such file or directory: {workdir / 'gone.py'}")
    binary = call(context, "edit_file", path="blob.bin", old_text="ab", new_text="x")
    assert binary.is_error and "is a binary file (5 bytes)" in binary.content
    latin = call(context, "edit_file", path="latin1.txt", old_text="caf", new_text="x")
    assert (latin.is_error, latin.content) == (True, f"{workdir / 'latin1.txt'} is not UTF-8 text; edit it with bash instead")
    assert (workdir / "blob.bin").read_bytes() == b"ab\x00cd"
