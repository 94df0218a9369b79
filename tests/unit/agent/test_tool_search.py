import os
import shutil

import pytest

from wave_sandbox.agent.tools import execute_tool, search
from wave_sandbox.agent.tools.registry import TOOL_NAMES

APP_LOG = "14:29 GET /api/orders 200\n14:31 GET /api/orders 500\n"


@pytest.fixture
def service(workdir):
    """A small repo-like tree: code, logs (git-ignored), a hidden folder, .git, a binary file."""
    files = {
        "app/orders.py": "def list_orders():\n    return db.query('SELECT * FROM orders')\n",
        "app/users.py": "def list_users():\n    return db.query('SELECT * FROM users')\n",
        "logs/app.log": APP_LOG,
        ".hidden/notes.md": "orders spike\n",
        ".git/HEAD": "ref: refs/heads/orders\n",
        ".gitignore": "logs/\n",
        "README.md": "Order service\n",
    }
    for relative, text in files.items():
        (workdir / relative).parent.mkdir(parents=True, exist_ok=True)
        (workdir / relative).write_text(text)
    (workdir / "blob.bin").write_bytes(b"orders\x00\x01\x02")
    return workdir


def call(context, name, **arguments):
    return execute_tool(name, arguments, TOOL_NAMES, context)


# list_files

def test_list_files_is_recursive_sorted_and_skips_git(context, service):
    result = call(context, "list_files")
    assert result.content.splitlines() == [
        f"{service}: 7 file(s)",
        ".gitignore", ".hidden/notes.md", "README.md", "app/orders.py", "app/users.py", "blob.bin", "logs/app.log",
    ]


def test_list_files_path_and_glob_narrow_the_listing(context, service):
    assert call(context, "list_files", glob="*.py").content.splitlines()[1:] == ["app/orders.py", "app/users.py"]
    assert call(context, "list_files", glob="**/*.log").content.splitlines()[1:] == ["logs/app.log"]
    assert call(context, "list_files", path="app").content.splitlines() == [
        f"{service / 'app'}: 2 file(s)", "orders.py", "users.py"]
    assert call(context, "list_files", path="app", glob="u*").content.splitlines() == [
        f"{service / 'app'}: 1 file(s) matching u*", "users.py"]


def test_list_files_lists_a_folder_symlink_without_following_it(context, service):
    os.symlink(service / "app", service / "linked")
    assert "linked" in call(context, "list_files").content.splitlines()
    assert "linked/orders.py" not in call(context, "list_files").content


def test_list_files_is_capped(context, service, monkeypatch):
    monkeypatch.setattr(search, "MAX_LISTED_FILES", 2)
    assert call(context, "list_files").content.splitlines()[1:] == [
        ".gitignore", ".hidden/notes.md", "[... 5 more files not shown; narrow the path or glob ...]"]


def test_list_files_on_a_file_or_a_missing_path(context, service):
    assert call(context, "list_files", path="README.md").content == str(service / "README.md")
    missing = call(context, "list_files", path="nope")
    assert (missing.is_error, missing.content) == (True, f"No such file or directory: {service / 'nope'}")


# grep, with ripgrep and with the Python fallback: both must answer alike

@pytest.fixture(params=["ripgrep", "python"])
def grep_engine(request, monkeypatch):
    if request.param == "ripgrep" and not shutil.which("rg"):
        pytest.skip("rg is not installed here (the agent image has it)")
    if request.param == "python":
        monkeypatch.setattr(search.shutil, "which", lambda name: None)
    return request.param


def test_grep_prints_file_line_text_and_searches_hidden_and_ignored_files(context, service, grep_engine):
    result = call(context, "grep", pattern="orders")
    assert (result.is_error, result.content.splitlines()) == (False, [
        "./.hidden/notes.md:1:orders spike",
        "./app/orders.py:1:def list_orders():",
        "./app/orders.py:2:    return db.query('SELECT * FROM orders')",
        "./logs/app.log:1:14:29 GET /api/orders 200",
        "./logs/app.log:2:14:31 GET /api/orders 500",
    ])


def test_grep_path_and_glob_narrow_the_search(context, service, grep_engine):
    assert call(context, "grep", pattern="500$", path="logs/app.log").content == "logs/app.log:2:14:31 GET /api/orders 500"
    assert call(context, "grep", pattern="SELECT", path=str(service), glob="*.py").content.splitlines() == [
        f"{service}/app/orders.py:2:    return db.query('SELECT * FROM orders')",
        f"{service}/app/users.py:2:    return db.query('SELECT * FROM users')",
    ]


def test_grep_without_matches_is_not_an_error(context, service, grep_engine):
    result = call(context, "grep", pattern="no such text anywhere")
    assert (result.is_error, result.content) == (False, "no matches")


def test_grep_reports_a_bad_pattern_and_a_missing_path(context, service, grep_engine):
    bad = call(context, "grep", pattern="(unclosed")
    assert bad.is_error is True and "(unclosed" in bad.content
    missing = call(context, "grep", pattern="x", path="nowhere")
    assert (missing.is_error, missing.content) == (True, f"No such file or directory: {service / 'nowhere'}")


def test_grep_is_capped_and_cuts_long_lines(context, workdir, grep_engine, monkeypatch):
    monkeypatch.setattr(search, "MAX_GREP_MATCHES", 2)
    (workdir / "many.txt").write_text("hit\n" * 10 + "z" * 5000 + " hit\n")
    assert call(context, "grep", pattern="hit").content.splitlines() == [
        "./many.txt:1:hit", "./many.txt:2:hit",
        "[... more matches not shown (first 2 only); narrow the pattern, path or glob ...]"]
    long_line = call(context, "grep", pattern="z+ hit").content
    assert long_line.startswith("./many.txt:11:zzz") and len(long_line) < 400


def test_a_slow_ripgrep_search_is_stopped_and_says_so(context, workdir, monkeypatch):
    # A stand-in rg that finds one line, then hangs as rg would on an enormous tree.
    (workdir / "a.txt").write_text("hit\n")
    fake_bin = workdir.parent / "bin"
    fake_bin.mkdir()
    (fake_bin / "rg").write_text("#!/bin/sh\necho ./a.txt:1:hit\nexec sleep 30\n")
    (fake_bin / "rg").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}:{os.environ['PATH']}")
    monkeypatch.setattr(search, "GREP_TIMEOUT_S", 0.3)
    result = call(context, "grep", pattern="hit")
    assert result.content == "./a.txt:1:hit\n[... search stopped after 0.3 s; narrow the path or glob ...]"
