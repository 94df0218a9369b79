"""The preflight's one line: every missing tool named, up to ten, then a count."""

from __future__ import annotations

from wave_sandbox.engine.preflight import preflight_message


def test_the_line_names_each_missing_tool():
    assert preflight_message(["gh", "go"]) == ("preflight: requires.tools gh, go not found in the agent image "
                                               "(Wave's preflight checks them before a pipeline starts)")


def test_past_ten_tools_the_line_counts_the_rest():
    line = preflight_message([f"tool{number}" for number in range(3000)])
    assert "tool0, tool1," in line and "tool9 and 2990 more not found" in line and "tool10" not in line
    assert len(line) < 200
