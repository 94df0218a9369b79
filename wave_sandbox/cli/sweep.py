"""The third cleanup net, cast by every command: what runs killed without a chance to clean up left.

A run that ends in any normal way (completed, failed, Ctrl-C, `cancel`) removes its own objects. One
killed outright (kill -9, a crash) leaves its lease file behind unheld (`engine.liveness`), and a
reboot changes the boot id: the next `wave-sandbox` command of any kind sees that, cheaply, and only
then asks the backend to remove the containers, volumes and gateway sockets (and the networks and
firewall rules of earlier versions) of runs whose owner process is gone. Live runs are
never touched; runs started with `--keep` keep their leftovers until `clean`, and every run's clone
stays for `resume` until `clean`. When the engine does not answer, the command goes on: the sweep
is tried again by the next one.
"""

from __future__ import annotations

import sys

from wave_sandbox.errors import WaveSandboxError
from wave_sandbox.text_safety import printable_inline

# `clean` does the same itself and reports it; these need no sweep (nor Docker) before answering.
COMMANDS_WITHOUT_SWEEP = {"clean", "--help", "-h", "--version"}


def sweep_after_dead_runs(arguments: list[str]) -> None:
    """Remove dead runs' leftovers when a lease shows that a run died without cleaning up."""
    from wave_sandbox.engine.liveness import (
        booted_since_last_sweep, forget_lease, kept_run_ids, remember_this_boot, stale_run_ids,
    )

    if not arguments or arguments[0] in COMMANDS_WITHOUT_SWEEP:
        return
    stale = stale_run_ids()
    if not stale and not booted_since_last_sweep():
        return
    from wave_sandbox.sandbox.registry import get_backend

    try:
        report = get_backend().clean_dead_runs(kept_run_ids())
    except WaveSandboxError:
        return  # no engine answering now: the leases stay, the next command tries again
    except Exception as error:  # noqa: BLE001 - a sweep must never stop the command the user asked for
        print(printable_inline(f"warning: could not clean up after ended runs: {error}"), file=sys.stderr)
        return
    if not report.failures:
        remember_this_boot()
        for run_id in stale:
            forget_lease(run_id)
    if report.removed_anything:
        line = f"notice: cleaned up after runs whose process ended: {report.summary()}"
        print(printable_inline(line), file=sys.stderr, flush=True)
