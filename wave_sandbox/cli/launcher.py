"""The console entry point: take SIGTERM and Ctrl-C first, then load the CLI.

Loading the CLI (Typer, every command module) takes a second on a busy machine; a signal landing in that
second would otherwise end the process by the signal's default (exit 143, or a KeyboardInterrupt
traceback) instead of the 130 every interrupt exits with. Nothing has been created yet at that point.
"""

from __future__ import annotations

import gc
import signal
import sys

INTERRUPTED_EXIT = 130


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def load_cli():
    """Import the CLI with the garbage collector paused: the import creates some hundred thousand objects
    that all live until exit, and the collections it would trigger meanwhile (over a hundred, ~50 ms on a
    busy 2-CPU machine) find nothing to free. `cli.app.main` freezes them once loaded."""
    gc.disable()
    try:
        from wave_sandbox.cli.app import main as cli_main
    finally:
        gc.enable()
    return cli_main


def main() -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        cli_main = load_cli()
        cli_main()
    except KeyboardInterrupt:  # before (or after) the CLI's own handling: same line, same code
        for number in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C (timeout(1) signals twice) ends nothing more
            signal.signal(number, signal.SIG_IGN)
        print("Interrupted.", file=sys.stderr)
        sys.exit(INTERRUPTED_EXIT)
