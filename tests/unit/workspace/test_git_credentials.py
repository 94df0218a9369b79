"""Credentials in git's own files: found wherever a mount shows them, redacted so git still reads them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.unit.workspace.helpers import git, make_repository
from wave_sandbox.bind_mount import BindMount
from wave_sandbox.workspace.clone import Clone
from wave_sandbox.workspace.git_credentials import redact_git_config, redacted_git_files
from wave_sandbox.workspace.mounts import plan_step_mounts
from wave_sandbox.workspace.secrets import DEFAULT_SECRET_PATTERNS, matches_secret_pattern

CREDENTIAL_LINES = {
    "\turl = https://bob:hunter2@example.com/r.git": "\turl = https://***@example.com/r.git",
    "\tpushurl = https://TOKEN@github.com/o/r.git": "\tpushurl = https://***@github.com/o/r.git",
    '[url "https://x-access-token:TOKEN@github.com/"]': '[url "https://***@github.com/"]',
    "\textraheader = AUTHORIZATION: basic eC1hY2Nlc3M=": "\textraheader = ***",
    "\textraHeader = Authorization: Bearer abc": "\textraHeader = ***",
    "\tproxy = http://user:pw@proxy:3128": "\tproxy = http://***@proxy:3128",
    '\thelper = "!f() { echo password=pw; }; f"': "\thelper = ***",
    "\toauthtoken = 0123456789abcdef": "\toauthtoken = ***",
    "\tsmtpPass = secret": "\tsmtpPass = ***",
    "# old token ghp_abcdefghijklmnopqrstuvwxyz": "# old token ***",
    "# password=oops": "# (a credential was here)",
    "\turl = https://gitlab.example/r.git?private_token=abc&x=1": "\turl = https://gitlab.example/r.git?private_token=***&x=1",
}
HARMLESS = [
    "[core]", "\trepositoryformatversion = 0", "\turl = https://github.com/o/r.git", "\turl = git@github.com:o/r.git",
    "\turl = ssh://git@github.com/o/r.git",
    '[remote "origin"]', "\tfetch = +refs/heads/*:refs/remotes/origin/*", "\tinsteadOf = https://github.com/",
    "\tusername = bob", "\thelper = store", "# a comment",
]  # fmt: skip


@pytest.mark.parametrize("line, redacted", CREDENTIAL_LINES.items())
def test_each_way_of_holding_a_credential_is_redacted(line, redacted):
    assert redact_git_config(line) == redacted


@pytest.mark.parametrize("line", HARMLESS)
def test_lines_without_a_credential_are_kept(line):
    assert redact_git_config(line) == line


def test_a_redacted_value_loses_its_continuation_lines_and_the_copy_still_parses(tmp_path):
    config = tmp_path / "config"
    config.write_text('[http]\n\textraheader = Authorization: \\\n  Bearer SECRET\n\tsslVerify = true\n[wave]\n\tx = 1\n')
    copy = tmp_path / "copy"
    copy.write_text(redact_git_config(config.read_text()))
    listed = subprocess.run(["git", "config", "-f", str(copy), "--list"], capture_output=True, text=True, check=True)
    assert listed.stdout.splitlines() == ["http.extraheader=***", "http.sslverify=true", "wave.x=1"]


@pytest.fixture
def repo_with_credentials(tmp_path) -> Path:
    inner = make_repository(tmp_path / "inner-origin", {"inner.py": "x\n"})
    repo = make_repository(tmp_path / "service", {"app.py": "x\n"})
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner), "sub")
    git(repo, "commit", "-q", "-m", "sub")
    git(repo, "config", "url.https://x-access-token:T1@github.com/.insteadOf", "https://github.com/")
    git(repo, "config", "include.path", "extra.inc")
    (repo / ".git" / "extra.inc").write_text("[http]\n\textraheader = Authorization: Bearer T2\n")
    git(repo / "sub", "config", "remote.origin.pushurl", "https://u:T3@example.com/inner.git")
    nested = make_repository(repo / "vendor" / "tool", {"tool.py": "x\n"})
    git(nested, "config", "remote.origin.url", "https://u:T4@example.com/tool.git")
    return repo


def test_every_git_file_with_a_credential_is_found_in_a_repository_mount(repo_with_credentials):
    copies = redacted_git_files(repo_with_credentials)
    assert sorted(copies) == [".git/config", ".git/extra.inc", ".git/modules/sub/config", "vendor/tool/.git/config"]
    assert not any(token in b"".join(copies.values()) for token in (b"T1@", b"T2\n", b"T3@", b"T4@"))


def test_a_mount_of_git_itself_or_of_its_modules_finds_them_too(repo_with_credentials):
    assert sorted(redacted_git_files(repo_with_credentials / ".git")) == ["config", "extra.inc", "modules/sub/config"]
    assert sorted(redacted_git_files(repo_with_credentials / ".git" / "modules")) == ["sub/config"]


def test_a_clean_repository_needs_no_copy(tmp_path):
    assert redacted_git_files(make_repository(tmp_path / "clean", {"a.py": "x\n"})) == {}


def test_an_include_leaving_the_mount_is_not_read(tmp_path):
    outside = tmp_path / "outside.inc"
    outside.write_text("[http]\n\textraheader = Authorization: Bearer OUT\n")
    repo = make_repository(tmp_path / "service", {"a.py": "x\n"})
    git(repo, "config", "include.path", str(outside))
    assert redacted_git_files(repo) == {}


def test_the_mount_plan_carries_the_copies_at_their_container_paths(repo_with_credentials):
    read_only = BindMount(repo_with_credentials, "/src", True)
    git_dir = BindMount(repo_with_credentials / ".git", "/gitdir", True)
    _, masked, redacted = plan_step_mounts([read_only, git_dir], repo_with_credentials, None)
    assert {"/src/.git/config", "/src/.git/modules/sub/config", "/gitdir/config", "/gitdir/extra.inc"} <= set(redacted)
    assert b"https://***@github.com/" in redacted["/src/.git/config"]
    assert not [path for path in masked if path.endswith("config")]


def test_the_clone_of_a_read_write_step_holds_no_credential(repo_with_credentials, tmp_path):
    clone_path = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo_with_credentials), str(clone_path))
    _, _, redacted = plan_step_mounts([BindMount(repo_with_credentials, "/src", False)], repo_with_credentials,
                                      Clone(clone_path, "HEAD"))  # fmt: skip
    assert redacted == {}


@pytest.mark.parametrize("relative", [".git-credentials", "home/.docker/config.json", ".kube/config",
                                      "deploy/.kube/config", "prod.kubeconfig", ".netrc", ".npmrc", ".pypirc",
                                      ".aws/credentials", "a/b/.env", "certs/tls.key"])  # fmt: skip
def test_credential_files_match_the_default_patterns(relative):
    assert matches_secret_pattern(relative, DEFAULT_SECRET_PATTERNS)


@pytest.mark.parametrize("relative", ["config", "app/config.json", "docker/config.json", "kube/config", "keys.py"])
def test_ordinary_files_do_not(relative):
    assert not matches_secret_pattern(relative, DEFAULT_SECRET_PATTERNS)
