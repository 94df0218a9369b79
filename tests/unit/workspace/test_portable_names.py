"""Names the agent introduces must read as what they are and check out on every system; the snapshot
refuses the others by name, and leaves the names the user already committed alone."""

from __future__ import annotations

import pytest

from wave_sandbox.workspace.path_rules import case_collisions, new_name_refusal
from wave_sandbox.workspace.tree_snapshot import git_blob_sha, snapshot_working_tree

from tests.unit.workspace.test_tree_snapshot import base_of, tree, write  # noqa: F401 (fixture)

MISLEADING = ["invoice\u202efdp.exe", "zero\u200bwidth.py", "join\u200d.sh", "iso\u2066late\u2069.md", "bom\ufeff.txt",
              "mark\u200e.txt", "arabic\u061cmark.txt"]
WINDOWS_RESERVED = ["CON", "con.txt", "aux.c", "Nul.json", "COM1", "lpt9.log", "prn .md", "trailing.", "trailing ",
                    "a<b", "a>b", "a:b", 'a"b', "a|b", "a?b", "a*b", "a\\b"]


@pytest.mark.parametrize("name", MISLEADING + WINDOWS_RESERVED)
def test_a_new_misleading_or_unportable_name_is_refused_by_name(tree, name):
    write(tree, f"src/{name}")
    write(tree, "fine.txt")
    result = snapshot_working_tree(tree, set())
    assert f"src/{name}" in result.refused and f"src/{name}" not in result.files
    assert "fine.txt" in result.files


@pytest.mark.parametrize("name", ["consent.py", "com10", "auxiliary.c", "conf.d", "a.b.c", "naïve.txt", "日本.md"])
def test_ordinary_names_that_resemble_reserved_ones_are_taken(tree, name):
    write(tree, name)
    assert name in snapshot_working_tree(tree, set()).files


def test_a_folder_with_a_misleading_name_is_refused_whole(tree):
    write(tree, "docs\u202e/readme.md")
    result = snapshot_working_tree(tree, set())
    assert "U+202E" in result.refused["docs\u202e"] and not result.files


def test_a_reserved_name_the_user_committed_may_still_be_edited(tree):
    write(tree, "drivers/aux.c", "old\n")
    base = base_of(tree, "drivers/aux.c")
    write(tree, "drivers/aux.c", "new\n")
    write(tree, "drivers/aux/extra.c")  # a new folder named aux is the agent's
    result = snapshot_working_tree(tree, set(), base=base)
    assert result.files["drivers/aux.c"].content == b"new\n"
    assert "reserves" in result.refused["drivers/aux"]


def test_a_new_file_in_a_reserved_folder_the_user_has_is_taken(tree):
    write(tree, "con/old.txt")
    base = base_of(tree, "con/old.txt")
    write(tree, "con/new.txt")
    assert "con/new.txt" in snapshot_working_tree(tree, set(), base=base).files


def test_a_new_path_differing_only_in_case_from_a_tracked_one_is_refused(tree):
    write(tree, "README.md", "the user's\n")
    base = base_of(tree, "README.md")
    write(tree, "readme.md", "the agent's\n")
    write(tree, "Docs/guide.md")
    write(tree, "docs/other.md")
    result = snapshot_working_tree(tree, set(), base=base)
    assert "README.md" in result.files and "readme.md" not in result.files
    assert "'readme.md' and 'README.md' differ only in case" in result.refused["readme.md"]
    assert {"Docs/guide.md", "docs/other.md"} <= set(result.refused)


def test_names_differing_only_in_unicode_normalisation_collide():
    composed, decomposed = "caf\u00e9.txt", "cafe\u0301.txt"
    assert set(case_collisions([composed, decomposed], {decomposed})) == {decomposed}


def test_only_the_new_folders_of_a_path_are_judged():
    assert new_name_refusal("aux/new.c", {"aux"}) is None
    assert "reserves" in new_name_refusal("aux/con", {"aux"})


def test_a_blob_sink_receives_new_content_which_is_then_not_kept(tree):
    write(tree, "kept.txt", "same\n")
    base = base_of(tree, "kept.txt")
    write(tree, "new.txt", "fresh\n")
    received = []
    result = snapshot_working_tree(tree, set(), base=base, blob_sink=received.append)
    assert received == [b"fresh\n"]
    new = result.files["new.txt"]
    assert new.content is None and new.streamed and new.blob_sha == git_blob_sha(b"fresh\n")
