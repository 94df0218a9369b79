import contextlib
import dataclasses
import os
import signal
import time

from tests.unit.agent.process_state import process_ends_within
from wave_sandbox.agent.tools import execute_tool, shell
from wave_sandbox.agent.tools.registry import TOOL_NAMES


def bash(context, command, **extra):
    return execute_tool("bash", {"command": command, **extra}, TOOL_NAMES, context)


def test_bash_returns_exit_code_and_combined_output_from_the_workdir(context, workdir):
    result = bash(context, "pwd; echo to-stderr >&2")
    assert result.is_error is False
    assert result.content == f"exit code: 0\n{workdir}\nto-stderr\n"


def test_a_failing_command_is_an_answer_not_a_tool_error(context):
    result = bash(context, "echo nothing found; exit 3")
    assert (result.is_error, result.content) == (False, "exit code: 3\nnothing found\n")


def test_silent_command_says_so(context):
    assert bash(context, "true").content == "exit code: 0\n(no output)"


def test_long_output_is_truncated_with_a_marker(context):
    result = bash(context, "head -c 100000 /dev/zero | tr '\\0' a")
    assert result.content == "exit code: 0\n" + "a" * 1000 + "\n[... output truncated: 98000 bytes omitted ...]\n" + "a" * 1000


def test_timeout_kills_the_whole_process_group(context, workdir):
    began = time.monotonic()
    result = bash(context, "sleep 30 & echo $! > background.pid; echo started; sleep 30", timeout_s=0.5)
    assert time.monotonic() - began < 5
    assert result.is_error is True
    assert result.content == "command timed out after 0.5 s and was killed with its child processes\nstarted\n"
    assert process_ends_within(int((workdir / "background.pid").read_text()))


def test_background_jobs_do_not_outlive_the_command_nor_hold_it_up(context):
    began = time.monotonic()
    result = bash(context, "sleep 30 & echo $!")
    assert time.monotonic() - began < 5
    background_pid = int(result.content.splitlines()[1])
    assert process_ends_within(background_pid)


def test_the_step_default_timeout_applies_when_the_model_gives_none(context):
    quick = dataclasses.replace(context, bash_timeout_s=0.2)
    assert bash(quick, "sleep 5").content.startswith("command timed out after 0.2 s")


def test_the_step_deadline_caps_the_model_timeout(context):
    nearly_over = dataclasses.replace(context, deadline=time.monotonic() + 0.2)
    began = time.monotonic()
    result = bash(nearly_over, "sleep 5", timeout_s=60)
    assert result.is_error and time.monotonic() - began < 2
    over = dataclasses.replace(context, deadline=time.monotonic() - 1)
    assert bash(over, "echo never").content == "the step's time is up; the command was not run"


def test_the_step_token_is_not_passed_to_commands(context, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "step-token")
    monkeypatch.setenv("WAVE_TEST_MARKER", "kept")
    result = bash(context, 'echo "${ANTHROPIC_API_KEY:-withheld} $WAVE_TEST_MARKER"')
    assert result.content == "exit code: 0\nwithheld kept\n"


def test_a_missing_workdir_is_a_tool_error(context, workdir):
    gone = dataclasses.replace(context, workdir=str(workdir / "absent"))
    result = bash(gone, "true")
    assert result.is_error is True
    assert result.content == f"cannot start /bin/bash in {workdir / 'absent'}: No such file or directory: {workdir / 'absent'}"


def test_a_process_that_escapes_the_group_cannot_hold_the_call_open(context, workdir, monkeypatch):
    monkeypatch.setattr(shell, "PIPE_DRAIN_GRACE_S", 0.2)
    # setsid leaves the process group: it survives the kill and keeps writing to the pipe.
    began = time.monotonic()
    result = bash(context, "setsid sh -c 'echo $$ > escaped.pid; while :; do echo spam; done' & sleep 0.2")
    try:
        assert time.monotonic() - began < 5
        assert result.content.startswith("exit code: 0\nspam\n")
    finally:  # closing the pipe usually ends it (SIGPIPE); make sure
        with contextlib.suppress(ProcessLookupError):
            os.kill(int((workdir / "escaped.pid").read_text()), signal.SIGKILL)
