"""The clone and the run branch with real git in temp folders: what a step's commit holds, and what
it never touches in the user's repository."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from wave_sandbox.errors import WorkspaceError
from wave_sandbox.workspace.branch import RunBranch, commit_identity
from wave_sandbox.workspace.clone import create_clone, remove_clone

from tests.unit.workspace.helpers import blob_text, git, make_repository, tree_listing

RUN_ID = "20260204-143012-ab12"
BRANCH = f"refs/heads/wave/incident-response/{RUN_ID}"


@pytest.fixture
def user_repo(tmp_path) -> Path:
    repo = make_repository(tmp_path / "service", {
        "app.py": "def handler():\n    return 500\n",
        "README.md": "# service\n",
        "scripts/deploy.sh": "#!/bin/sh\necho deploy\n",
        ".gitignore": "*.log\nbuild/\n",
    })
    git(repo, "branch", "feature")
    return repo


@pytest.fixture
def clone(user_repo, tmp_path):
    made = create_clone(user_repo, tmp_path / "records" / "clone")
    yield made
    remove_clone(made)


@pytest.fixture
def branch(user_repo, clone) -> RunBranch:
    return RunBranch(user_repo, clone, "incident-response", RUN_ID)


def refs(repo: Path) -> str:
    return git(repo, "for-each-ref", "--format=%(refname) %(objectname)")


def test_the_clone_is_a_detached_checkout_of_head(user_repo, clone):
    assert clone.base_commit == git(user_repo, "rev-parse", "HEAD").strip()
    assert (clone.path / "app.py").read_text() == "def handler():\n    return 500\n"
    assert git(clone.path, "rev-parse", "HEAD").strip() == clone.base_commit
    assert not (clone.git_dir / "hooks").exists() or not any((clone.git_dir / "hooks").iterdir())


def test_the_clone_leaves_out_uncommitted_changes(user_repo, tmp_path):
    (user_repo / "app.py").write_text("dirty\n")
    (user_repo / "untracked.txt").write_text("new\n")
    made = create_clone(user_repo, tmp_path / "other" / "clone")
    assert (made.path / "app.py").read_text() == "def handler():\n    return 500\n"
    assert not (made.path / "untracked.txt").exists()


def test_the_clone_working_tree_is_handed_to_the_container_user_but_not_its_git_folder(user_repo, tmp_path):
    if os.getuid() != 0:
        pytest.skip("chown to another uid needs root")
    made = create_clone(user_repo, tmp_path / "owned" / "clone", owner=(10001, 10001))
    assert (made.path.stat().st_uid, (made.path / "app.py").stat().st_uid) == (10001, 10001)
    assert (made.path / "scripts" / "deploy.sh").stat().st_uid == 10001
    assert made.git_dir.stat().st_uid == 0
    assert all(path.stat().st_uid == 0 for path in made.git_dir.rglob("*"))


def test_a_step_commit_has_the_message_trailers_author_and_parent(user_repo, clone, branch):
    (clone.path / "app.py").write_text("def handler():\n    return 200\n")
    result = branch.commit_step("remediate", "craftsman", "Fix the handler")
    assert result.sha == git(user_repo, "rev-parse", BRANCH).strip()
    assert git(user_repo, "log", "-1", "--format=%P", BRANCH).strip() == clone.base_commit
    assert git(user_repo, "log", "-1", "--format=%B", BRANCH) == (
        "Fix the handler\n\n"
        f"Step remediate (craftsman) of run {RUN_ID}.\n\n"
        f"Wave-Run: {RUN_ID}\nWave-Pipeline: incident-response\nWave-Step: remediate\n\n"
    )
    trailers = git(user_repo, "log", "-1", "--format=%(trailers:only,unfold)", BRANCH).strip().splitlines()
    assert trailers == [f"Wave-Run: {RUN_ID}", "Wave-Pipeline: incident-response", "Wave-Step: remediate"]
    identity = git(user_repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>", BRANCH).strip()
    assert identity == "wave-sandbox <wave-sandbox@localhost>|wave-sandbox <wave-sandbox@localhost>"
    assert result.changed_paths == ["app.py"]
    assert branch.commits == [result.sha] and branch.files_changed == 1


def test_the_identity_comes_from_the_repo_config_when_set(user_repo, clone, branch):
    git(user_repo, "config", "wave-sandbox.name", "Review Bot")
    git(user_repo, "config", "wave-sandbox.email", "bot@example.com")
    assert commit_identity(user_repo) == ("Review Bot", "bot@example.com")
    (clone.path / "README.md").write_text("# changed\n")
    branch.commit_step("remediate", "craftsman", "Docs")
    assert git(user_repo, "log", "-1", "--format=%an <%ae>", BRANCH).strip() == "Review Bot <bot@example.com>"


def test_publishing_moves_neither_head_nor_any_other_branch(user_repo, clone, branch):
    before_refs, head_file = refs(user_repo), (user_repo / ".git" / "HEAD").read_bytes()
    index = (user_repo / ".git" / "index").read_bytes()
    (clone.path / "app.py").write_text("changed\n")
    branch.commit_step("remediate", "craftsman", "Fix")
    after = refs(user_repo).splitlines()
    assert [line for line in after if "refs/heads/wave/" not in line] == before_refs.splitlines()
    assert (user_repo / ".git" / "HEAD").read_bytes() == head_file
    assert (user_repo / ".git" / "index").read_bytes() == index
    assert not (user_repo / ".git" / "FETCH_HEAD").exists()


def test_executable_bits_and_symlinks_are_committed(user_repo, clone, branch):
    (clone.path / "tools").mkdir()
    (clone.path / "tools" / "check.sh").write_text("#!/bin/sh\n")
    (clone.path / "tools" / "check.sh").chmod(0o755)
    (clone.path / "scripts" / "deploy.sh").chmod(0o755)
    os.symlink("../app.py", clone.path / "tools" / "app-link")
    branch.commit_step("remediate", "craftsman", "Tools")
    listing = tree_listing(user_repo, BRANCH)
    assert listing["tools/check.sh"][0] == "100755"
    assert listing["scripts/deploy.sh"][0] == "100755"
    assert listing["tools/app-link"][0] == "120000"
    assert blob_text(user_repo, BRANCH, "tools/app-link") == "../app.py"


def test_deletions_are_committed(user_repo, clone, branch):
    (clone.path / "README.md").unlink()
    shutil.rmtree(clone.path / "scripts")
    result = branch.commit_step("remediate", "craftsman", "Remove")
    assert result.changed_paths == ["README.md", "scripts/deploy.sh"]
    assert set(tree_listing(user_repo, BRANCH)) == {"app.py", ".gitignore"}
    status = git(user_repo, "diff", "--name-status", clone.base_commit, BRANCH).splitlines()
    assert status == ["D\tREADME.md", "D\tscripts/deploy.sh"]


def test_new_files_the_gitignore_excludes_are_skipped(user_repo, clone, branch):
    (clone.path / "debug.log").write_text("noise\n")
    (clone.path / "build").mkdir()
    (clone.path / "build" / "out.o").write_bytes(b"\x7fELF")
    (clone.path / "keep.txt").write_text("kept\n")
    result = branch.commit_step("remediate", "craftsman", "Add")
    assert result.changed_paths == ["keep.txt"]
    assert "debug.log" not in tree_listing(user_repo, BRANCH)


def test_a_gitignore_written_by_the_agent_applies_to_new_files_only(user_repo, clone, branch):
    (clone.path / ".gitignore").write_text("*.log\nbuild/\napp.py\nsecret*\n")
    (clone.path / "app.py").write_text("tracked, still committed\n")
    (clone.path / "secret.txt").write_text("new and ignored\n")
    branch.commit_step("remediate", "craftsman", "Ignore")
    listing = tree_listing(user_repo, BRANCH)
    assert blob_text(user_repo, BRANCH, "app.py") == "tracked, still committed\n"
    assert "secret.txt" not in listing


def test_refused_changes_keep_the_base_version(user_repo, clone, branch):
    (clone.path / "README.md").unlink()
    os.symlink("/etc/passwd", clone.path / "README.md")
    (clone.path / "app.py").write_text("fixed\n")
    result = branch.commit_step("remediate", "craftsman", "Fix")
    assert blob_text(user_repo, BRANCH, "README.md") == "# service\n"
    assert tree_listing(user_repo, BRANCH)["README.md"][0] == "100644"
    assert result.changed_paths == ["app.py"]
    assert any("README.md" in refusal and "/etc/passwd" in refusal for refusal in result.refusals)


def test_a_tracked_file_replaced_by_a_link_to_a_folder_keeps_the_files_under_it(user_repo, clone, branch):
    shutil.rmtree(clone.path / "scripts")
    os.symlink("/etc", clone.path / "scripts")
    (clone.path / "app.py").write_text("fixed\n")
    result = branch.commit_step("remediate", "craftsman", "Fix")
    assert blob_text(user_repo, BRANCH, "scripts/deploy.sh") == "#!/bin/sh\necho deploy\n"
    assert result.changed_paths == ["app.py"]


def test_nothing_changed_means_no_commit_and_no_branch(user_repo, clone, branch):
    (clone.path / "debug.log").write_text("ignored\n")
    result = branch.commit_step("remediate", "craftsman", "Nothing")
    assert result.sha is None and result.changed_paths == []
    assert "refs/heads/wave/" not in refs(user_repo)
    assert branch.commits == []


def test_only_refused_changes_mean_no_commit(user_repo, clone, branch):
    os.symlink("/etc/shadow", clone.path / "shadow")
    result = branch.commit_step("remediate", "craftsman", "Nothing")
    assert result.sha is None and result.refusals
    assert "refs/heads/wave/" not in refs(user_repo)


def test_an_unchanged_tracked_file_over_the_limit_is_not_reported(tmp_path):
    big = "x" * (11 * 1024 * 1024)
    repo = make_repository(tmp_path / "data-repo", {"data.csv": big, "app.py": "a\n"})
    made = create_clone(repo, tmp_path / "records" / "clone")
    (made.path / "app.py").write_text("b\n")
    result = RunBranch(repo, made, "p", RUN_ID).commit_step("s", "craftsman", "Change app")
    assert result.changed_paths == ["app.py"]
    assert result.refusals == []
    assert tree_listing(repo, f"refs/heads/wave/p/{RUN_ID}")["data.csv"] == tree_listing(repo, "HEAD")["data.csv"]


def test_a_second_step_commits_on_top_of_the_first(user_repo, clone, branch):
    (clone.path / "app.py").write_text("step one\n")
    first = branch.commit_step("remediate", "craftsman", "One").sha
    (clone.path / "README.md").write_text("step two\n")
    (clone.path / "NEW.md").write_text("new\n")
    second = branch.commit_step("harden", "craftsman", "Two")
    assert second.changed_paths == ["NEW.md", "README.md"]
    assert git(user_repo, "rev-list", f"{clone.base_commit}..{BRANCH}").split() == [second.sha, first]
    assert branch.files_changed == 3


def test_submodule_gitlinks_are_untouched(tmp_path):
    library = make_repository(tmp_path / "library", {"lib.c": "int lib;\n"})
    library_head = git(library, "rev-parse", "HEAD").strip()
    repo = make_repository(tmp_path / "app", {"main.c": "int main;\n"})
    (repo / ".gitmodules").write_text('[submodule "vendor/lib"]\n\tpath = vendor/lib\n\turl = ../library\n')
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{library_head},vendor/lib")
    git(repo, "add", ".gitmodules")
    git(repo, "commit", "-q", "-m", "Add submodule")
    made = create_clone(repo, tmp_path / "records" / "clone")
    (made.path / "vendor" / "lib").mkdir(parents=True, exist_ok=True)
    (made.path / "vendor" / "lib" / "planted.c").write_text("evil\n")
    (made.path / "main.c").write_text("int main(void);\n")
    result = RunBranch(repo, made, "p", RUN_ID).commit_step("s", "craftsman", "Change")
    listing = tree_listing(repo, f"refs/heads/wave/p/{RUN_ID}")
    assert listing["vendor/lib"] == ("160000", library_head)
    assert "vendor/lib/planted.c" not in listing
    assert result.changed_paths == ["main.c"]
    assert any("vendor/lib" in refusal and "submodule" in refusal for refusal in result.refusals)


def test_a_removed_submodule_folder_keeps_its_gitlink(tmp_path):
    library = make_repository(tmp_path / "library", {"lib.c": "int lib;\n"})
    library_head = git(library, "rev-parse", "HEAD").strip()
    repo = make_repository(tmp_path / "app", {"main.c": "int main;\n"})
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{library_head},vendor/lib")
    git(repo, "commit", "-q", "-m", "Add gitlink")
    made = create_clone(repo, tmp_path / "records" / "clone")
    shutil.rmtree(made.path / "vendor", ignore_errors=True)
    (made.path / "vendor").write_text("a file where the submodule's folder was\n")
    (made.path / "main.c").write_text("changed\n")
    RunBranch(repo, made, "p", RUN_ID).commit_step("s", "craftsman", "Change")
    listing = tree_listing(repo, f"refs/heads/wave/p/{RUN_ID}")
    assert listing["vendor/lib"] == ("160000", library_head)
    assert "vendor" not in listing


def test_a_tracked_name_that_is_not_utf8_does_not_break_the_commit(tmp_path):
    repo = make_repository(tmp_path / "legacy", {"app.py": "a\n"})
    with open(os.path.join(os.fsencode(repo), b"caf\xe9.txt"), "wb") as stream:
        stream.write(b"latin-1 name\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Latin-1 file name")
    made = create_clone(repo, tmp_path / "records" / "clone")
    (made.path / "app.py").write_text("b\n")
    result = RunBranch(repo, made, "p", RUN_ID).commit_step("s", "craftsman", "Change")
    assert result.changed_paths == ["app.py"]
    names = subprocess.run(["git", "-C", str(repo), "ls-tree", "-r", "-z", "--name-only", f"refs/heads/wave/p/{RUN_ID}"],
                           capture_output=True, check=True).stdout.split(b"\0")
    assert b"caf\xe9.txt" in names


HOSTILE_GLOBAL_CONFIG = """\
[filter "evil"]
\tclean = touch {marker}.clean
\tsmudge = touch {marker}.smudge
\tprocess = touch {marker}.process
[diff "evil"]
\ttextconv = touch {marker}.textconv
\tcommand = touch {marker}.diff
[merge "evil"]
\tdriver = touch {marker}.merge
"""


def test_hostile_attributes_and_nested_repositories_run_nothing_on_the_host(user_repo, clone, branch, tmp_path, monkeypatch):
    """The user's global config defines drivers (as git-lfs does); the agent's `.gitattributes`
    asks for them and it plants a nested repository with hooks and fsmonitor: nothing may run."""
    home = tmp_path / "home"
    home.mkdir()
    marker = tmp_path / "marker"
    (home / ".gitconfig").write_text(HOSTILE_GLOBAL_CONFIG.format(marker=marker))
    monkeypatch.setenv("HOME", str(home))
    (clone.path / ".gitattributes").write_text("* filter=evil diff=evil merge=evil\n")
    nested = clone.path / "sub" / ".git"
    (nested / "hooks").mkdir(parents=True)
    for hook in ("pre-commit", "post-commit", "reference-transaction", "post-checkout"):
        (nested / "hooks" / hook).write_text(f"#!/bin/sh\ntouch {marker}.{hook}\n")
        (nested / "hooks" / hook).chmod(0o755)
    (nested / "config").write_text(f"[core]\n\tfsmonitor = touch {marker}.fsmonitor\n")
    (clone.path / "sub" / "file.txt").write_text("inside the nested repository\n")
    (clone.path / "app.py").write_text("fixed\n")
    result = branch.commit_step("remediate", "craftsman", "Fix")
    git(user_repo, "diff", "--stat", clone.base_commit, BRANCH)  # plain git on the user's side is fine
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith("marker")) == []
    listing = tree_listing(user_repo, BRANCH)
    assert ".gitattributes" in listing and "sub/file.txt" in listing
    assert not any(".git/" in path for path in listing)
    assert any("sub/.git" in refusal for refusal in result.refusals)


def test_the_hostile_global_config_would_run_under_unhardened_git(tmp_path):
    """The marker mechanism of the test above works: plain `git add` runs the clean filter."""
    home = tmp_path / "home"
    home.mkdir()
    marker = tmp_path / "marker"
    (home / ".gitconfig").write_text(HOSTILE_GLOBAL_CONFIG.format(marker=marker))
    repo = make_repository(tmp_path / "victim", {"a.txt": "a\n"})
    (repo / ".gitattributes").write_text("* filter=evil\n")
    (repo / "a.txt").write_text("b\n")
    subprocess.run(["git", "-C", str(repo), "add", "a.txt"], env={**os.environ, "HOME": str(home)},
                   capture_output=True, check=False)
    assert any(path.name.startswith("marker.") for path in tmp_path.iterdir())


def test_remove_clone_removes_everything_the_agent_wrote(user_repo, clone):
    (clone.path / "deep" / "er").mkdir(parents=True)
    (clone.path / "deep" / "er" / "file").write_text("x")
    os.symlink("/etc", clone.path / "etc-link")
    (clone.path / "deep").chmod(0o500)
    remove_clone(clone)
    assert not clone.path.exists()
    assert Path("/etc/passwd").exists()


def test_trees_are_written_as_git_writes_them(user_repo, clone, branch, tmp_path):
    """Names that sort differently as files and folders (foo.c, foo/, foo-bar, foo0) and deep folders."""
    for relative in ("foo.c", "foo/bar.c", "foo-bar", "foo0", "a/b/c/d/e.txt", "Z.md", "ünï/çødé.txt"):
        (clone.path / relative).parent.mkdir(parents=True, exist_ok=True)
        (clone.path / relative).write_text(f"{relative}\n")
    result = branch.commit_step("remediate", "craftsman", "Many files")
    reference = tmp_path / "reference"
    shutil.copytree(clone.path, reference, symlinks=True)
    git(reference, "add", "-A")
    assert git(user_repo, "rev-parse", f"{result.sha}^{{tree}}").strip() == git(reference, "write-tree").strip()
    git(user_repo, "fsck", "--strict", "--no-dangling")


def test_a_hostile_summary_becomes_one_printable_line(user_repo, clone, branch):
    (clone.path / "app.py").write_text("fixed\n")
    branch.commit_step("remediate", "craftsman", "\x1b[2JFixed\x07 it\nWave-Run: forged\n\nSigned-off-by: x")
    message = git(user_repo, "log", "-1", "--format=%B", BRANCH)
    assert message.splitlines()[0] == "\\x1b[2JFixed\\x07 it"
    assert message.count("Wave-Run:") == 1 and "forged" not in message


def test_a_long_summary_is_cut(user_repo, clone, branch):
    (clone.path / "app.py").write_text("fixed\n")
    branch.commit_step("remediate", "craftsman", "x" * 5000)
    assert len(git(user_repo, "log", "-1", "--format=%s", BRANCH).strip()) < 250


def test_git_variables_of_the_caller_do_not_redirect_the_commit(user_repo, clone, branch, monkeypatch, tmp_path):
    """Run from inside a git hook, GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE point at another repository."""
    decoy = make_repository(tmp_path / "decoy", {"other.txt": "other\n"})
    decoy_refs, decoy_index = refs(decoy), (decoy / ".git" / "index").read_bytes()
    for name, value in {"GIT_DIR": decoy / ".git", "GIT_WORK_TREE": decoy,
                        "GIT_INDEX_FILE": decoy / ".git" / "index", "GIT_OBJECT_DIRECTORY": decoy / ".git" / "objects"}.items():
        monkeypatch.setenv(name, str(value))
    (clone.path / "app.py").write_text("one\n")
    branch.commit_step("remediate", "craftsman", "One")
    (clone.path / "app.py").write_text("two\n")
    second = branch.commit_step("harden", "craftsman", "Two")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
        monkeypatch.delenv(name)
    assert git(user_repo, "rev-parse", BRANCH).strip() == second.sha
    assert blob_text(user_repo, BRANCH, "app.py") == "two\n"
    assert (refs(decoy), (decoy / ".git" / "index").read_bytes()) == (decoy_refs, decoy_index)


def test_a_bad_identity_in_the_repo_config_is_a_clear_error(user_repo, clone, branch):
    git(user_repo, "config", "wave-sandbox.name", "Evil <root@host>")
    (clone.path / "app.py").write_text("fixed\n")
    with pytest.raises(WorkspaceError, match="wave-sandbox.name"):
        branch.commit_step("remediate", "craftsman", "Fix")


def test_a_commit_that_cannot_be_published_is_not_recorded(user_repo, clone, branch):
    """The user moved the run's branch meanwhile: the fetch is fast-forward only and fails."""
    git(user_repo, "checkout", "-q", "-b", "elsewhere")
    (user_repo / "other.txt").write_text("diverged\n")
    git(user_repo, "add", "other.txt")
    git(user_repo, "commit", "-q", "-m", "Diverge")
    git(user_repo, "checkout", "-q", "main")
    git(user_repo, "update-ref", BRANCH, "elsewhere")
    (clone.path / "app.py").write_text("fixed\n")
    with pytest.raises(WorkspaceError, match="fetch"):
        branch.commit_step("remediate", "craftsman", "Fix")
    assert (branch.commits, branch.tip) == ([], clone.base_commit)
    assert git(user_repo, "rev-parse", BRANCH) == git(user_repo, "rev-parse", "elsewhere")
