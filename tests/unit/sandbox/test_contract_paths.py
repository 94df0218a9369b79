"""Path rules of the contract: workspace-relative names and folders."""

from __future__ import annotations

import pytest

from wave_sandbox.sandbox.contract import ContainerSpec, directory_under_workspace, workspace_relative_parts


def test_relative_paths_split_into_parts():
    assert workspace_relative_parts("output/./triage.json") == ("output", "triage.json")


@pytest.mark.parametrize("path", ["", "/etc", "../x", "a/../../x", ".", "a\x00b"])
def test_paths_leaving_the_workspace_are_refused(path):
    with pytest.raises(ValueError):
        workspace_relative_parts(path)


@pytest.mark.parametrize(
    ("directory", "parts"),
    [("/workspace", ()), ("/workspace/", ()), ("", ()), ("/workspace/in/x", ("in", "x")), ("in", ("in",))],
)
def test_directories_are_taken_under_the_workspace(directory, parts):
    assert directory_under_workspace(directory) == parts


@pytest.mark.parametrize("directory", ["/etc", "/workspaces", "/workspace/../etc"])
def test_directories_outside_the_workspace_are_refused(directory):
    with pytest.raises(ValueError):
        directory_under_workspace(directory)


def test_the_user_reads_as_numbers():
    assert ContainerSpec("r", "s", "i", None, "10001:10002", {}).uid_gid == (10001, 10002)
