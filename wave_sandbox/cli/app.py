"""The root of the Typer app: wires the commands and turns errors into one line and an exit code.

Commands are registered here, explicitly, from one table (``COMMANDS``: name -> module and attribute);
no command module imports this one, so the CLI has no import cycle. A command line that names a command
loads that command's module alone (`wave-sandbox run` imports neither `doctor`, `show` nor the
evidence pass); `--help`, shell completion, no command or an unknown name load them all.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import traceback

import typer

from wave_sandbox.cli.resume_hint import print_resume_hint
from wave_sandbox.cli.sweep import sweep_after_dead_runs
from wave_sandbox.errors import SpecError, WaveSandboxError
from wave_sandbox.on_demand import OnDemand
from wave_sandbox.text_safety import printable_inline, printable_text

app = typer.Typer(
    name="wave-sandbox",
    help="Run Wave pipelines with every step inside its own Docker container.",
    pretty_exceptions_enable=False,
    add_completion=True,
    no_args_is_help=True,
)


def show_version(value: bool) -> None:
    if value:
        from wave_sandbox import __version__

        typer.echo(f"wave-sandbox {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=show_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Run Wave pipelines with every step inside its own Docker container."""


def tidy_help(command) -> None:
    """An option whose help text already says its default does not repeat it as `[default: …]`, and an
    argument is shown as its name in capitals, `RUN` or `[INPUT]` (not `{run}`)."""
    for param in getattr(command, "params", []):
        if "(default" in (getattr(param, "help", None) or ""):
            param.show_default = False
        if getattr(param, "param_type_name", "") == "argument":
            param.metavar = param.metavar or param.name.upper()
            if param.required and hasattr(param, "_usage_display_name"):
                param._usage_display_name = lambda shown=param.metavar: shown
    for sub in getattr(command, "commands", {}).values():
        tidy_help(sub)


COMMANDS = OnDemand({
    "artifacts": "wave_sandbox.cli.artifacts_cmd:artifacts_command",
    "cancel": "wave_sandbox.cli.cancel_cmd:cancel_command",
    "clean": "wave_sandbox.cli.clean_cmd:clean_command",
    "doctor": "wave_sandbox.cli.doctor_cmd:doctor_command",
    "evidence": "wave_sandbox.cli.evidence_cmd:evidence_command",
    "images": "wave_sandbox.cli.images_cmd:images_app",
    "init": "wave_sandbox.cli.init_cmd:init_command",
    "list": "wave_sandbox.cli.list_cmd:list_command",
    "logs": "wave_sandbox.cli.logs_cmd:logs_command",
    "report": "wave_sandbox.cli.report_cmd:report_command",
    "resume": "wave_sandbox.cli.resume_cmd:resume_command",
    "review": "wave_sandbox.cli.review_cmd:review_command",
    "run": "wave_sandbox.cli.run_cmd:run_command",
    "runs": "wave_sandbox.cli.runs_cmd:runs_command",
    "show": "wave_sandbox.cli.show_cmd:show_command",
    "status": "wave_sandbox.cli.status_cmd:status_command",
    "validate": "wave_sandbox.cli.validate_cmd:validate_command",
})
"""Every command: its name -> "module:attribute", a function (a command) or a Typer app (a group)."""
COMPLETION_VARIABLE = "_WAVE_SANDBOX_COMPLETE"
_registered: set[str] = set()


def register_commands(names=None) -> None:
    """Add the named commands (default: every one) to `app`, each once; calling again adds only the new."""
    for name in sorted(COMMANDS.table) if names is None else names:
        if name in _registered:
            continue
        _registered.add(name)
        command = COMMANDS[name]
        if isinstance(command, typer.Typer):
            app.add_typer(command, name=name)
        else:
            app.command(name)(command)


def commands_named_by(arguments: list[str], environ) -> list[str] | None:
    """The command a command line runs, alone, when it names one of ours; None (every command) for the root's
    help, completion, no command or an unknown name, which list or suggest the others. The root's options
    take no value, so the first argument that is not an option names the command."""
    if COMPLETION_VARIABLE in environ:
        return None
    name = next((argument for argument in arguments if not argument.startswith("-")), None)
    return [name] if name in COMMANDS else None


def main() -> None:
    """Console entry point: no traceback for anything a user can cause."""
    gc.disable()  # loading a command creates objects that all live until exit: nothing for a collection to free
    try:
        register_commands(commands_named_by(sys.argv[1:], os.environ))
    finally:
        gc.enable()
    gc.freeze()  # what is imported lives until exit: spare the collector (and the exit) a walk over it
    install_sigterm_as_interrupt()
    try:
        sweep_after_dead_runs(sys.argv[1:])
        command = typer.main.get_command(app)
        tidy_help(command)
        exit_code = command(standalone_mode=False)
        if exit_code == 130:  # Typer turns Ctrl-C inside a command into a silent Exit(130): say it
            print("Interrupted.", file=sys.stderr)
    except SpecError as error:
        for problem in error.problems:
            print(printable_inline(problem), file=sys.stderr)
        sys.exit(error.exit_code)
    except WaveSandboxError as error:
        if not error.reported:  # an interrupt or a setup failure the closing lines already said
            print(f"Error: {printable_text(str(error))}", file=sys.stderr)
        print_resume_hint(error.run_id, error.repo)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(130)
    except Exception as click_error:  # click usage errors carry their own exit code
        exit_code = _click_exit_code(click_error)
        if exit_code is None:
            report_internal_error(click_error)
            print_resume_hint(getattr(click_error, "run_id", None), getattr(click_error, "repo", None))
            exit_code = 1
        sys.exit(exit_code)
    sys.exit(exit_code if isinstance(exit_code, int) else 0)


def report_internal_error(error: Exception) -> None:
    """A bug of ours, not the user's: one line, and the traceback only when asked for."""
    if os.environ.get("WAVE_SANDBOX_DEBUG"):
        traceback.print_exception(error)
    print(
        f"Internal error (a bug in wave-sandbox): {type(error).__name__}: {printable_inline(str(error))}. "
        "Set WAVE_SANDBOX_DEBUG=1 to see the traceback.",
        file=sys.stderr,
    )


def install_sigterm_as_interrupt() -> None:
    """SIGTERM takes the same path as Ctrl-C, so a killed run still cleans up after itself."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _click_exit_code(error: Exception) -> int | None:
    """Exit code for Click's (or Typer's vendored Click's) own exceptions, by shape, not import."""
    kind = type(error).__name__
    if isinstance(error, typer.Abort) or kind == "Abort":
        print("Interrupted.", file=sys.stderr)
        return 130
    if isinstance(error, typer.Exit) or kind == "Exit":
        return getattr(error, "exit_code", 1)
    show = getattr(error, "show", None)
    if callable(show) and isinstance(getattr(error, "exit_code", None), int):
        show()
        return 2
    return None
