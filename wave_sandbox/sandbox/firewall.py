"""Host firewall rules that earlier versions of wave-sandbox added, found and removed after a crash.

Before steps reached their gateway through a Unix socket (``gateway_socket.py``), each run had an
``--internal`` Docker network whose bridge was shut by iptables rules, each carrying
``-m comment --comment wave-sandbox.run=<run-id>``. No run adds such rules now; a run that crashed
under an earlier version may have left some, so the leftover sweep (``cleanup.py``, ``wave-sandbox
clean``) still lists and deletes them, as it still removes such a run's labelled network. Needs root
and an ``iptables`` binary; without them there is nothing this process could have added, and nothing
is listed.
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess

from wave_sandbox.errors import SandboxError

RULE_COMMENT_PREFIX = "wave-sandbox.run="
_IPTABLES_TIMEOUT_S = 30


def rule_comment(run_id: str) -> str:
    return RULE_COMMENT_PREFIX + run_id


@functools.cache
def firewall_unavailable_reason() -> str | None:
    """None when host firewall rules can be added here, else one line saying why not."""
    if shutil.which("iptables") is None:
        return "no iptables command on this host"
    if os.geteuid() != 0:
        return "not running as root"
    try:
        _iptables("-S", "INPUT")
    except SandboxError as exc:
        return f"iptables does not work here ({exc})"
    return None


def remove_firewall_rules(run_id: str | None = None) -> int:
    """Delete the rules of ``run_id`` (every wave-sandbox rule when None); returns how many."""
    removed = 0
    for rule_run_id, rule_arguments in wave_sandbox_rules(_iptables("-S")):
        if run_id is None or rule_run_id == run_id:
            _iptables("-D", *rule_arguments)
            removed += 1
    return removed


def firewall_run_ids() -> set[str]:
    """Run ids that have rules in the filter table now (empty when the firewall is unavailable)."""
    if firewall_unavailable_reason() is not None:
        return set()
    return {run_id for run_id, _ in wave_sandbox_rules(_iptables("-S"))}


def wave_sandbox_rules(listing: str) -> list[tuple[str, list[str]]]:
    """(run id, rule arguments for ``-D``) of each wave-sandbox rule in ``iptables -S`` output."""
    rules = []
    for line in listing.splitlines():
        arguments = shlex.split(line)
        if len(arguments) < 3 or arguments[0] != "-A" or "--comment" not in arguments:
            continue
        comment = arguments[arguments.index("--comment") + 1]
        if comment.startswith(RULE_COMMENT_PREFIX):
            rules.append((comment[len(RULE_COMMENT_PREFIX) :], arguments[1:]))
    return rules


def _iptables(*arguments: str) -> str:
    command = ["iptables", "-w", *arguments]
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=_IPTABLES_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxError(f"'{shlex.join(command)}' failed: {exc}") from exc
    if completed.returncode != 0:
        detail = ((completed.stderr or completed.stdout).strip().splitlines() or [""])[0]
        raise SandboxError(f"'{shlex.join(command)}' exited with status {completed.returncode}: {detail}")
    return completed.stdout
