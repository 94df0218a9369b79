"""The root of the Typer app: wires the commands and turns errors into one line and an exit code."""

from __future__ import annotations

import sys

import typer

from wave_sandbox.errors import WaveSandboxError

app = typer.Typer(
    name="wave-sandbox",
    help="Run Wave pipelines with every step inside its own Docker container.",
    pretty_exceptions_enable=False,
    add_completion=False,
    no_args_is_help=True,
)


def register_commands() -> None:
    """Import each command module; each adds itself to `app`."""
    from wave_sandbox.cli import (  # noqa: F401  (imported for their registration side effect)
        init_cmd,
        list_cmd,
        validate_cmd,
    )


def main() -> None:
    """Console entry point: no traceback for anything a user can cause."""
    register_commands()
    try:
        app(standalone_mode=False)
    except WaveSandboxError as error:
        print(f"Error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(130)
    except Exception as click_error:  # click usage errors carry their own exit code
        exit_code = _click_exit_code(click_error)
        if exit_code is None:
            raise
        sys.exit(exit_code)
    sys.exit(0)


def _click_exit_code(error: Exception) -> int | None:
    import click

    if isinstance(error, click.exceptions.Abort):
        print("Interrupted.", file=sys.stderr)
        return 130
    if isinstance(error, click.ClickException):
        error.show()
        return 2
    if isinstance(error, click.exceptions.Exit):
        return error.exit_code
    return None
