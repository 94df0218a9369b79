"""What `clean` and the start-up sweep say they removed: one line, gateway sockets counted."""

from __future__ import annotations

from wave_sandbox.sandbox.backend import CleanupReport


def test_a_report_of_nothing_removed_says_so_without_gateway_sockets():
    report = CleanupReport()
    assert not report.removed_anything
    assert report.summary() == "removed 0 containers, 0 networks, 0 volumes, 0 firewall rules"


def test_gateway_sockets_alone_count_as_something_removed_and_are_named_in_the_line():
    report = CleanupReport(gateway_sockets=["r1", "r2"])
    assert report.removed_anything
    assert report.summary() == "removed 0 containers, 0 networks, 0 volumes, 0 firewall rules, 2 gateway sockets"


def test_the_line_keeps_spared_runs_after_the_gateway_sockets():
    report = CleanupReport(containers=["c1"], gateway_sockets=["r1"], spared_runs=["r9"])
    line = report.summary()
    assert "\n" not in line
    assert line.startswith("removed 1 containers, 0 networks, 0 volumes, 0 firewall rules, 1 gateway sockets; ")
    assert "spared 1 live runs (r9)" in line
