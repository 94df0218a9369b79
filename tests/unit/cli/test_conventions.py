"""The CLI's conventions: --version, completion, help without repeated defaults or odd names, and a
README command table that names every command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from wave_sandbox import __version__
from wave_sandbox.cli.app import app, register_commands, tidy_help

CLI = Path(sys.executable).with_name("wave-sandbox")
README = Path(__file__).resolve().parents[3] / "README.md"


def cli(*arguments: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI), *arguments], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})


def command_tree():
    register_commands()
    root = typer.main.get_command(app)
    tidy_help(root)
    return root


def test_version():
    done = cli("--version")
    assert done.returncode == 0 and done.stdout == f"wave-sandbox {__version__}\n"


def test_shell_completion_completes_command_names():
    done = cli(env={"_WAVE_SANDBOX_COMPLETE": "complete_bash", "COMP_WORDS": "wave-sandbox re", "COMP_CWORD": "1"})
    assert done.returncode == 0 and done.stdout.split() == ["report", "resume", "review"]
    # as a bash user types it: Typer takes the shell from the process tree (shellingham), and the suite's
    # own parent may be make's sh, which it does not support
    from_bash = subprocess.run(["bash", "-c", f"'{CLI}' --show-completion; true"], capture_output=True, text=True,
                               timeout=60)
    assert from_bash.stdout.startswith("_wave_sandbox_completion()"), from_bash.stderr


def commands(group, prefix=()):
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name), command
        if hasattr(command, "commands"):
            yield from commands(command, (*prefix, name))


@pytest.mark.parametrize("path", [path for path, _ in commands(command_tree())], ids=" ".join)
def test_help_names_arguments_in_capitals_and_says_each_default_once(path):
    done = cli(*path, "--help")
    assert done.returncode == 0, done.stderr
    usage = next(line for line in done.stdout.splitlines() if "Usage:" in line)
    assert "{" not in usage and "[[" not in usage and not re.search(r" \[?[a-z_]+\]?(\s|$)", usage.split("[OPTIONS]")[-1])
    flattened = " ".join(done.stdout.split())
    for match in re.finditer(r"\(default[^)]*\)", flattened):
        after = flattened[match.end():match.end() + 60]
        assert "[default:" not in after.split("│")[0], (path, match.group())


def test_the_readme_command_table_names_every_command():
    table = "\n".join(line for line in README.read_text().splitlines() if line.startswith("| `"))
    for path, command in commands(command_tree()):
        if len(path) == 1 and not hasattr(command, "commands"):
            assert f"`{path[0]}" in table or f"/ `{path[0]}" in table, f"README's command table lacks {path[0]}"
