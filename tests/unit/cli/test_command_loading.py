"""The command table of cli/app.py: `wave-sandbox run` loads the run command's module alone, while the
root's help, completion and an unknown name still see every command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wave_sandbox.cli.app import COMMANDS, COMPLETION_VARIABLE, commands_named_by

ENTRY_POINT = Path(sys.executable).with_name("wave-sandbox")
# Runs the console script's own entry (the launcher) with `arguments`, then prints the loaded modules.
LOADED_MODULES_AFTER = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["wave-sandbox", *json.loads(sys.argv[1])]
from wave_sandbox.cli.launcher import main
main()
"""
NOT_FOR_RUN = [
    "wave_sandbox.cli.doctor_cmd", "wave_sandbox.cli.show_cmd", "wave_sandbox.cli.evidence_cmd",
    "wave_sandbox.cli.images_cmd", "wave_sandbox.cli.validate_cmd", "wave_sandbox.cli.list_cmd",
    "wave_sandbox.cli.init_cmd", "wave_sandbox.cli.clean_cmd", "wave_sandbox.cli.logs_cmd",
    "wave_sandbox.cli.status_cmd", "wave_sandbox.cli.runs_cmd", "wave_sandbox.cli.review_cmd",
    "wave_sandbox.cli.artifacts_cmd", "wave_sandbox.cli.cancel_cmd", "wave_sandbox.evidence",
    "jsonschema",  # the contract checkers: imported on a step's first contract check
]  # fmt: skip


def loaded_modules(*arguments: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    done = subprocess.run([sys.executable, "-c", LOADED_MODULES_AFTER, json.dumps(arguments)],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "200"})  # fmt: skip
    return done, set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_run_loads_the_run_command_and_not_the_other_commands():
    done, modules = loaded_modules("run", "--help")
    assert done.returncode == 0 and "Usage: wave-sandbox run" in done.stdout
    assert {"wave_sandbox.cli.run_cmd", "wave_sandbox.engine.launch"} <= modules
    assert sorted(name for name in NOT_FOR_RUN if name in modules) == []


def test_the_root_help_loads_and_lists_every_command():
    done, modules = loaded_modules("--help")
    assert done.returncode == 0
    listed = {line.split()[1] for line in done.stdout.splitlines() if line.startswith("│ ") and len(line.split()) > 1}
    assert set(COMMANDS) <= listed
    assert {COMMANDS.table[name].split(":")[0] for name in COMMANDS} <= modules


def test_an_unknown_command_is_told_apart_from_every_command():
    done = subprocess.run([str(ENTRY_POINT), "shwo"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "No such command 'shwo'" in done.stderr and "show" in done.stderr


@pytest.mark.parametrize(("arguments", "environ", "expected"), [
    (["run", "pipeline.yaml", "--json"], {}, ["run"]),
    (["images", "build"], {}, ["images"]),
    (["run", "--help"], {}, ["run"]),
    (["--help"], {}, None),
    (["--version"], {}, None),
    ([], {}, None),
    (["shwo"], {}, None),
    (["run"], {COMPLETION_VARIABLE: "complete_bash"}, None),
])  # fmt: skip
def test_the_command_a_command_line_names(arguments, environ, expected):
    assert commands_named_by(arguments, environ) == expected
