"""What the clone watchdog counts: allocated or apparent size, inodes, hard links once, links never followed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.unit.workspace.test_unprivileged_host import host_folder, run_as_host_user  # noqa: F401 - fixture
from wave_sandbox.workspace.disk_usage import MIB, SMALLEST_CHARGE, UnmeasurableTree, _open_folder, measure_disk_use


def test_a_sparse_file_counts_at_its_length_and_a_written_one_at_its_blocks(tmp_path):
    with open(tmp_path / "sparse", "wb") as stream:
        stream.truncate(64 * MIB)
    (tmp_path / "written").write_bytes(b"x" * (3 * MIB))
    assert os.stat(tmp_path / "sparse").st_blocks * 512 < MIB  # the payload holds no disk...
    use = measure_disk_use(tmp_path)
    assert 67 * MIB <= use.bytes < 68 * MIB  # ...but counts at its length, beside the written 3 MiB
    assert use.entries == 3 and use.complete


def test_every_empty_file_costs_one_block_and_a_hard_link_counts_once(tmp_path):
    for number in range(100):
        (tmp_path / str(number)).touch()
    (tmp_path / "data").write_bytes(b"y" * MIB)
    for number in range(50):
        os.link(tmp_path / "data", tmp_path / f"link{number}")
    use = measure_disk_use(tmp_path)
    assert use.bytes == SMALLEST_CHARGE * (100 + 1) + MIB  # the root folder, 100 empty files, the data once


def test_a_link_counts_as_itself_and_is_never_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "big").write_bytes(b"z" * (8 * MIB))
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "to-folder").symlink_to(outside)
    (tree / "to-file").symlink_to(outside / "big")
    assert measure_disk_use(tree).bytes == 3 * SMALLEST_CHARGE


def test_the_walk_stops_once_past_the_limit_and_skips_top_level_names(tmp_path):
    for number in range(20):
        (tmp_path / f"f{number}").write_bytes(b"a" * MIB)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "pack").write_bytes(b"b" * (5 * MIB))
    stopped = measure_disk_use(tmp_path, stop_above=4 * MIB)
    assert not stopped.complete and 4 * MIB < stopped.bytes <= 6 * MIB
    assert measure_disk_use(tmp_path, skip_top_level=(".git",)).bytes == 20 * MIB + SMALLEST_CHARGE


def test_a_folder_that_is_not_the_one_its_parent_listed_is_refused(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    listed = os.lstat(tmp_path / "a")
    with pytest.raises(UnmeasurableTree, match="replaced"):
        _open_folder(str(tmp_path / "b"), (listed.st_dev, listed.st_ino))
    (tmp_path / "c").symlink_to(tmp_path / "a")
    with pytest.raises(UnmeasurableTree):
        _open_folder(str(tmp_path / "c"), (listed.st_dev, listed.st_ino))


def test_an_unreadable_folder_of_ours_is_measured_and_its_mode_put_back(host_folder):  # noqa: F811
    result = run_as_host_user(host_folder, """
        import json, os, stat, sys
        from pathlib import Path
        from wave_sandbox.workspace.disk_usage import measure_disk_use
        root = Path(sys.argv[1]) / "clone"
        hidden = root / "hidden"
        hidden.mkdir(parents=True)
        (hidden / "payload").write_bytes(b"p" * (2 * 1024 * 1024))
        hidden.chmod(0)
        try:
            os.listdir(hidden)
            readable_before = True
        except PermissionError:
            readable_before = False
        use = measure_disk_use(root)
        print(json.dumps({"readable_before": readable_before, "bytes": use.bytes,
                          "mode_after": stat.S_IMODE(os.lstat(hidden).st_mode)}))
    """)
    assert result["readable_before"] is False  # the attack: the host's own user cannot list it
    assert result["bytes"] >= 2 * 1024 * 1024  # yet the payload is counted
    assert result["mode_after"] == 0
