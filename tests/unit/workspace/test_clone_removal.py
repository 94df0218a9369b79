"""The clone leaves the run at once and is deleted by a detached process (real git, no Docker)."""

from __future__ import annotations

import os
import time

from wave_sandbox.engine.leftovers import remove_leftover_clones
from wave_sandbox.workspace.clone import create_clone, remove_clone_in_background, removing_path

from tests.unit.workspace.helpers import make_repository


def test_the_clone_is_gone_at_once_and_deleted_behind_the_run(tmp_path):
    repo = make_repository(tmp_path / "service", {"app.py": "a\n", "lib/util.py": "b\n"})
    clone = create_clone(repo, tmp_path / "records" / "clone")
    (clone.path / "locked").mkdir()
    (clone.path / "locked" / "file").write_text("x")
    os.chmod(clone.path / "locked", 0o500)
    remove_clone_in_background(clone)
    assert not os.path.lexists(clone.path)
    removing = removing_path(clone.path)
    deadline = time.monotonic() + 60
    while os.path.lexists(removing) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.lexists(removing)
    assert (repo / "app.py").read_text() == "a\n"


def test_clean_removes_what_a_dead_removal_left(tmp_path):
    repo = make_repository(tmp_path / "service", {"app.py": "a\n"})
    record = repo / ".wave" / "runs" / "20260101-000000-dead"
    (record / "steps").mkdir(parents=True)
    (record / "run.json").write_text('{"run_id": "20260101-000000-dead", "pipeline": "p", "status": "failed"}')
    (removing_path(record / "clone") / "half").mkdir(parents=True)
    assert remove_leftover_clones(repo, lambda run_id: False) == 1
    assert not removing_path(record / "clone").exists()
