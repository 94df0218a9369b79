"""How a socket, FIFO or device node under a mount is hidden: an empty file over it, its folder under gVisor."""

from __future__ import annotations

import os

import pytest

from tests.unit.sandbox.test_container_config import spec
from wave_sandbox.errors import SandboxError
from wave_sandbox.sandbox.container_config import MaskPlan, plan_masks
from wave_sandbox.sandbox.contract import BindMount


def test_a_fifo_is_masked_alone_under_runc_and_with_its_folder_under_gvisor(tmp_path):
    (tmp_path / "db").mkdir()
    os.mkfifo(tmp_path / "db" / "pipe")
    os.mkfifo(tmp_path / "db" / "pipe2")
    (tmp_path / ".env").write_text("SECRET=1")
    masked = ["/src/db/pipe", "/src/db/pipe2", "/src/.env"]
    mounts = [BindMount(tmp_path, "/src")]
    assert plan_masks(spec(mounts=mounts, masked_paths=masked)) == MaskPlan(
        folders=[], files=["/src/db/pipe", "/src/db/pipe2", "/src/.env"]
    )
    assert plan_masks(spec(mounts=mounts, masked_paths=masked, runtime="runsc")) == MaskPlan(
        folders=["/src/db"], files=["/src/.env"]
    )


def test_under_gvisor_a_fifo_at_the_top_of_a_mount_is_refused_in_one_line(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(SandboxError, match="at the top of a mounted folder.*--runtime runc"):
        plan_masks(spec(mounts=[BindMount(tmp_path, "/src")], masked_paths=["/src/pipe"], runtime="runsc"))
