"""One mount value from the spec to the container: read_only decided once, a read-write mount on the clone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.workspace.helpers import git, make_repository
from wave_sandbox.bind_mount import BindMount, MountRole
from wave_sandbox.errors import WorkspaceError
from wave_sandbox.spec.models import Mount
from wave_sandbox.workspace.clone import Clone
from wave_sandbox.workspace.mounts import plan_step_mounts


@pytest.fixture
def repo(tmp_path) -> Path:
    return make_repository(tmp_path / "service", {"app/main.py": "print(1)\n"})


@pytest.mark.parametrize("mode, read_only", [("readonly", True), ("readwrite", False)])
def test_the_spec_decides_read_only_from_mode(repo, mode, read_only):
    mount = Mount(source="./app", target="/src", mode=mode).to_bind_mount(repo)
    assert mount == BindMount(repo / "app", "/src", read_only, MountRole.DECLARED)


def test_a_mount_is_read_only_unless_asked_otherwise(repo):
    assert Mount(source="./", target="/src").to_bind_mount(repo).read_only
    assert BindMount(repo, "/src").read_only


def test_a_read_only_mount_reaches_the_container_as_it_is(repo):
    declared = BindMount(repo, "/src", True)
    planned, _, _ = plan_step_mounts([declared], repo, None)
    assert planned == [declared]


def test_a_read_write_mount_without_a_clone_is_an_error_not_a_read_only_mount(repo):
    with pytest.raises(WorkspaceError, match="read-write but this run has no clone"):
        plan_step_mounts([BindMount(repo, "/src", False)], repo, None)


def test_a_read_write_mount_shows_the_clone_with_its_git_folder_read_only(repo, tmp_path):
    clone_path = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone_path))
    planned, _, _ = plan_step_mounts([BindMount(repo / "app", "/src", False)], repo, Clone(clone_path, "HEAD"))
    assert planned == [BindMount(clone_path / "app", "/src", False, MountRole.DECLARED)]
    whole, _, _ = plan_step_mounts([BindMount(repo, "/src", False)], repo, Clone(clone_path, "HEAD"))
    assert whole == [
        BindMount(clone_path, "/src", False, MountRole.DECLARED),
        BindMount(clone_path / ".git", "/src/.git", True, MountRole.GIT_METADATA),
    ]
