"""Owner labels (is the run that made an object alive?) and reading the host firewall's rules."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest

from wave_sandbox.held_signals import signals_deferred
from wave_sandbox.sandbox.firewall import wave_sandbox_rules
from wave_sandbox.sandbox.owner import current_owner, owner_is_alive


def test_this_process_is_alive():
    host, pid, start = current_owner().split(":")
    assert (host, int(pid)) == (socket.gethostname(), os.getpid()) and owner_is_alive(current_owner())


def test_a_finished_process_is_dead():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not owner_is_alive(f"{socket.gethostname()}:{child.pid}:1")


def test_a_reused_pid_with_another_start_time_is_dead():
    host, pid, start = current_owner().split(":")
    assert not owner_is_alive(f"{host}:{pid}:{int(start) + 1}")


def test_an_owner_on_another_host_counts_as_alive():
    assert owner_is_alive("some-other-host.invalid:1:1")


def test_wave_sandbox_rules_are_read_from_iptables_listing():
    listing = (
        "-P INPUT ACCEPT\n-N DOCKER-USER\n"
        '-A INPUT -i wsbx-0a1b2c3d4e -p tcp -d 172.18.0.1/32 --dport 4000 -m comment --comment "wave-sandbox.run=r 1" -j ACCEPT\n'
        "-A INPUT -i wsbx-0a1b2c3d4e -m comment --comment wave-sandbox.run=r2 -j DROP\n"
        "-A INPUT -i docker0 -m comment --comment other -j DROP\n"
        "-A DOCKER-USER -j RETURN\n"
    )
    rules = wave_sandbox_rules(listing)
    assert [run_id for run_id, _ in rules] == ["r 1", "r2"]
    assert rules[1][1] == [
        "INPUT",
        "-i",
        "wsbx-0a1b2c3d4e",
        "-m",
        "comment",
        "--comment",
        "wave-sandbox.run=r2",
        "-j",
        "DROP",
    ]


def test_ctrl_c_waits_until_cleanup_is_done():
    finished = False
    with pytest.raises(KeyboardInterrupt), signals_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        finished = True
    assert finished
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
