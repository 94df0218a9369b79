"""The git-based contracts on a real git checkout (no container): what the working tree changed since
the tip before the step, and test declarations counted against another ref."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace

from wave_sandbox.contracts import ContractCheck
from wave_sandbox.engine.live_contracts import LiveContracts

PATTERN = (("test_file_pattern", ["test_*.py"]), ("test_func_pattern", r"^\s*def test_"))


def git(repo: Path, *arguments: str) -> str:
    environment = {"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "T",
                   "GIT_COMMITTER_EMAIL": "t@x", "PATH": "/usr/bin:/bin", "HOME": str(repo)}
    return subprocess.run(["git", "-C", str(repo), *arguments], check=True, capture_output=True, text=True,
                          env=environment).stdout.strip()


def checkout(tmp_path: Path) -> tuple[Path, str]:
    repo = tmp_path / "clone"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "test_a.py").write_text("def test_one():\n    pass\n\ndef test_two():\n    pass\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "two tests")
    (repo / "test_a.py").write_text("def test_one():\n    pass\n")
    git(repo, "commit", "-q", "-am", "one test")
    return repo, git(repo, "rev-parse", "HEAD")


def checker(repo: Path, tip: str) -> LiveContracts:
    branch = SimpleNamespace(tip=tip)
    run = SimpleNamespace(infrastructure=SimpleNamespace(model_description="scripted:x", clone=SimpleNamespace(path=repo),
                                                         run_branch=branch))
    return LiveContracts(run, SimpleNamespace(), SimpleNamespace(step_id="s"))


def test_source_and_test_diff_measure_the_working_tree_against_the_tip_before_the_step(tmp_path):
    repo, tip = checkout(tmp_path)
    live = checker(repo, tip)
    assert live(ContractCheck("source_diff", ""), None).errors[0].startswith("found 0 qualifying")
    (repo / "app.py").write_text("x = 1\n")
    (repo / "test_a.py").write_text("# gone\n")
    assert live(ContractCheck("source_diff", "", settings=(("glob", "*.py"),)), None).errors == []
    errors = live(ContractCheck("test_diff", "", settings=PATTERN), None).errors
    assert errors and "0 test declaration(s) against 1 in the tree before the step" in errors[0]


def test_test_count_baseline_counts_against_another_ref(tmp_path):
    repo, tip = checkout(tmp_path)
    live = checker(repo, tip)
    settings = PATTERN + (("base_ref", "main~1"),)
    errors = live(ContractCheck("test_count_baseline", "", settings=settings), None).errors
    assert errors and "the result has 1 test declaration(s) against 2 in main~1" in errors[0]
    (repo / "test_a.py").write_text("def test_one():\n    pass\n\ndef test_three():\n    pass\n")
    assert live(ContractCheck("test_count_baseline", "", settings=settings), None).errors == []
    assert live(ContractCheck("test_count_baseline", "", settings=PATTERN + (("base_ref", "nope"),)), None).errors == []
