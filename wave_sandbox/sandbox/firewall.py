"""Host firewall rules that leave a run's containers only their gateway port.

A container on an ``--internal`` Docker network cannot get its packets forwarded off the host
(Docker 20.10 still gives it a default route to the gateway, but drops what it forwards), yet it
reaches every port the host binds on the network's gateway address or on 0.0.0.0. Rules matched on
the run network's bridge interface close that:

    -I INPUT -i <bridge> -p tcp -d <gateway ip> --dport <port> -j ACCEPT   (added last, sits first)
    -I INPUT -i <bridge> -j DROP                                           (added with the network)
    -I DOCKER-USER -i <bridge> -j REJECT --reject-with icmp-net-unreachable (added with the network)

The third, in Docker's chain for user rules (FORWARD where there is none), makes a connection to any
other address fail at once, as with no route, and holds even if Docker's own isolation rules were
missing. Each rule carries ``-m comment --comment wave-sandbox.run=<run-id>`` so that the run's
teardown and ``clean`` after a crash find them. The DROP and REJECT rules go in when the network is
made, before any container exists; the ACCEPT rule once the gateway knows its port. IPv4 only: run
networks have no IPv6. Needs root and an ``iptables`` binary (rootless Docker, Docker Desktop and
Podman have neither on the daemon's side); ``firewall_unavailable_reason`` says so and the run
carries on with less.
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass

from wave_sandbox.errors import SandboxError

RULE_COMMENT_PREFIX = "wave-sandbox.run="
_IPTABLES_TIMEOUT_S = 30


def rule_comment(run_id: str) -> str:
    return RULE_COMMENT_PREFIX + run_id


@functools.cache
def firewall_unavailable_reason() -> str | None:
    """None when host firewall rules can be added here, else one line saying why not."""
    if shutil.which("iptables") is None:
        return "no iptables command on this host: other host ports stay reachable from containers"
    if os.geteuid() != 0:
        return "not running as root: no host firewall rules, other host ports stay reachable from containers"
    try:
        _iptables("-S", "INPUT")
    except SandboxError as exc:
        return f"iptables does not work here ({exc}): other host ports stay reachable from containers"
    return None


def drop_all_input_from_bridge(bridge_interface: str, run_id: str) -> None:
    """Drop every packet from ``bridge_interface`` to the host and refuse to forward any elsewhere.

    The gateway's ACCEPT rule goes above the DROP later (``accept_gateway_port``).
    """
    _iptables("-I", "INPUT", "1", "-i", bridge_interface, *_comment_args(run_id), "-j", "DROP")
    _iptables(
        "-I", _forward_chain(), "1", "-i", bridge_interface, *_comment_args(run_id),
        "-j", "REJECT", "--reject-with", "icmp-net-unreachable",
    )  # fmt: skip


def accept_gateway_port(bridge_interface: str, gateway_ip: str, port: int, run_id: str) -> None:
    """Let TCP from ``bridge_interface`` reach ``gateway_ip:port``, above the DROP rule."""
    _iptables(
        "-I", "INPUT", "1", "-i", bridge_interface, "-p", "tcp", "-d", gateway_ip,
        "--dport", str(port), *_comment_args(run_id), "-j", "ACCEPT",
    )  # fmt: skip


@dataclass(frozen=True)
class GatewayPortRule:
    """The ACCEPT rule of a run's gateway port; ``remove`` closes the port again (idempotent).

    The network's DROP and REJECT rules stay until the network goes (registry or ``clean``), so
    containers kept after the run (``--keep``) stay shut in.
    """

    run_id: str
    port: int
    active: bool

    def remove(self) -> int:
        """Delete this port's ACCEPT rule; returns how many rules went (0 when already gone)."""
        if not self.active:
            return 0
        removed = 0
        for rule_run_id, rule_arguments in wave_sandbox_rules(_iptables("-S", "INPUT")):
            if rule_run_id == self.run_id and _opens_port(rule_arguments, self.port):
                _iptables("-D", *rule_arguments)
                removed += 1
        return removed


def restrict_network_to_gateway(network, port: int, run_id: str) -> GatewayPortRule:
    """Open ``port`` on a run network's gateway (a ``networks.RunNetwork``) to its containers.

    Everything else from the bridge is already dropped since the network was made, when it is
    ``firewalled``; an unfirewalled network (no iptables here) is left as it is.
    """
    if not network.firewalled:
        return GatewayPortRule(run_id, port, active=False)
    accept_gateway_port(network.bridge_interface, network.gateway_ip, port, run_id)
    return GatewayPortRule(run_id, port, active=True)


def _opens_port(rule_arguments: list[str], port: int) -> bool:
    return "ACCEPT" in rule_arguments and "--dport" in rule_arguments and str(port) in rule_arguments


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


@functools.cache
def _forward_chain() -> str:
    """Docker's DOCKER-USER chain (it comes first in FORWARD and Docker leaves it alone), else FORWARD."""
    try:
        _iptables("-S", "DOCKER-USER")
    except SandboxError:
        return "FORWARD"
    return "DOCKER-USER"


def _comment_args(run_id: str) -> list[str]:
    return ["-m", "comment", "--comment", rule_comment(run_id)]


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
