"""Credentials in a repository's git metadata and credential files never reach a step's container.

The repository holds a token in each place git keeps one: a remote's `pushurl`, a
`[url "https://x-access-token:TOKEN@github.com/"] insteadOf` header, `http.extraheader` and
`http.<url>.extraheader`, a file the config includes, a submodule's config
(`.git/modules/lib/config`) and a nested submodule's (`.git/modules/lib/modules/inner/config`), an
untracked nested repository; and credential files (`.git-credentials`, `.docker/config.json`,
`.kube/config`, `.netrc`, `.npmrc`). One `wave-sandbox run` (scripted model) reads them all from
inside: a read-only step mounting the repository, one mounting `.git` itself and `.git/modules`, a
read-write step. Each reads the files by name, greps every file of its mounts for every token, and
runs git. A harmless canary beside the tokens shows the files were there and read.
"""

from __future__ import annotations

import binascii
import json
import secrets
import shlex
import subprocess

import pytest

from tests.integration.conftest import CLI, git
from tests.security.attack_kit import bash, make_repository, probe, say, write_pipeline

pytestmark = pytest.mark.docker

TOKENS = {
    name: f"wst-{name}-{secrets.token_hex(12)}"
    for name in ("insteadof", "pushurl", "extraheader", "urlheader", "included", "submodule", "nested",
                 "vendored", "credentials", "docker", "kube", "netrc", "npmrc")
}  # fmt: skip
CANARY = f"canary-{secrets.token_hex(8)}"
GIT_FILES = {
    "/src/.git/config": "insteadof", "/src/.git/extra.inc": "included",
    "/src/.git/modules/lib/config": "submodule", "/src/.git/modules/lib/modules/inner/config": "nested",
    "/src/vendor/tool/.git/config": "vendored",
}  # fmt: skip
CREDENTIAL_FILES = {
    "/src/.git-credentials": "credentials", "/src/.docker/config.json": "docker",
    "/src/deploy/.kube/config": "kube", "/src/.netrc": "netrc", "/src/.npmrc": "npmrc",
}  # fmt: skip
GIT_DIR_FILES = ["/gitdir/config", "/gitdir/extra.inc", "/gitdir/modules/lib/config",
                 "/gitdir/modules/lib/modules/inner/config", "/mods/lib/config", "/mods/lib/modules/inner/config"]  # fmt: skip


def plain_repository(folder, file_name: str):
    folder.mkdir(parents=True)
    git(folder, "init", "-q", "-b", "main")
    (folder / file_name).write_text("x = 1\n")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", f"Add {file_name}")
    return folder


def add_submodule(repo, source, name: str) -> None:
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(source), name)
    git(repo, "commit", "-q", "-m", f"Add submodule {name}")


def hostile_repository(base):
    """The service repository with a token in every place of its git metadata and credential files."""
    lib = plain_repository(base / "lib-origin", "lib.py")
    add_submodule(lib, plain_repository(base / "inner-origin", "inner.py"), "inner")
    repo = make_repository(base / "service")
    add_submodule(repo, lib, "lib")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "update", "-q", "--init", "--recursive")
    settings = {
        "remote.origin.url": "https://github.com/acme/service.git",
        "remote.origin.pushurl": f"https://deploy:{TOKENS['pushurl']}@github.com/acme/service.git",
        f"url.https://x-access-token:{TOKENS['insteadof']}@github.com/.insteadOf": "https://github.com/",
        "http.extraheader": f"AUTHORIZATION: basic {TOKENS['extraheader']}",
        "http.https://gitlab.example/.extraheader": f"Authorization: Bearer {TOKENS['urlheader']}",
        "include.path": "extra.inc",
        "wave.canary": CANARY,
    }
    for key, value in settings.items():
        git(repo, "config", key, value)
    (repo / ".git" / "extra.inc").write_text(f"[http]\n\textraheader = Authorization: Bearer {TOKENS['included']}\n")
    git(repo / "lib", "config", "remote.origin.url", f"https://ci:{TOKENS['submodule']}@example.com/lib.git")
    git(repo / "lib", "config", "wave.canary", CANARY)
    git(repo / "lib" / "inner", "config", "http.extraheader", f"Authorization: token {TOKENS['nested']}")
    vendored = plain_repository(repo / "vendor" / "tool", "tool.py")
    git(vendored, "config", "remote.origin.url", f"https://bot:{TOKENS['vendored']}@example.com/tool.git")
    credential_files = {
        ".git-credentials": f"https://bob:{TOKENS['credentials']}@github.com\n",
        ".docker/config.json": json.dumps({"auths": {"ghcr.io": {"auth": TOKENS["docker"]}}}),
        "deploy/.kube/config": f"users:\n- name: admin\n  user:\n    token: {TOKENS['kube']}\n",
        ".netrc": f"machine github.com login bob password {TOKENS['netrc']}\n",
        ".npmrc": f"//registry.npmjs.org/:_authToken={TOKENS['npmrc']}\n",
    }
    for relative, content in credential_files.items():
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        (repo / relative).write_text(content)
    return repo


def reading_probe(files: list[str], roots: list[str], git_commands: list[list[str]], output: str) -> dict:
    # The needles travel hex-encoded, so the run's transcript never holds a token in plain form.
    needles = [value.encode().hex() for value in [*TOKENS.values(), CANARY]]
    plan = {"files": files, "roots": roots, "needles": needles, "git": git_commands}
    return bash(probe("read_git_secrets", shlex.quote(json.dumps(plan)), output))


def secrets_pipeline() -> dict:
    def step(step_id, persona, mounts):
        return {"id": step_id, "persona": persona, "workspace": {"mount": mounts}, "exec": {"source": "read"},
                "output_artifacts": [{"name": step_id, "path": f"output/{step_id}.json"}]}  # fmt: skip

    return {
        "kind": "WavePipeline",
        "metadata": {"name": "secret-masks"},
        "steps": [
            step("repository", "navigator", [{"source": "./", "target": "/src"}]),
            step("gitdir", "navigator", [{"source": "./.git", "target": "/gitdir"},
                                         {"source": "./.git/modules", "target": "/mods"}]),  # fmt: skip
            step("readwrite", "craftsman", [{"source": "./", "target": "/src", "mode": "readwrite"}]),
        ],
    }


def secrets_script() -> dict:
    repository_git = [["git", "-C", "/src", "log", "--oneline"], ["git", "-C", "/src", "remote", "-v"],
                      ["git", "-C", "/src", "config", "--list"], ["git", "-C", "/src/lib", "log", "--oneline"],
                      ["git", "-C", "/src/lib/inner", "log", "--oneline"]]  # fmt: skip
    gitdir_git = [["git", "--git-dir=/gitdir", "log", "--oneline"], ["git", "--git-dir=/gitdir", "config", "--list"]]
    return {"steps": {
        "repository": [[reading_probe([*GIT_FILES, *CREDENTIAL_FILES], ["/src"], repository_git,
                                      "output/repository.json")],
                       [bash(f"cat {' '.join([*GIT_FILES, *CREDENTIAL_FILES])}")], say("read")],
        "gitdir": [[reading_probe(GIT_DIR_FILES, ["/gitdir", "/mods"], gitdir_git, "output/gitdir.json")], say("read")],
        "readwrite": [[reading_probe(["/src/.git/config"], ["/src"], repository_git[:1], "output/readwrite.json")],
                      say("read")],
    }}  # fmt: skip


@pytest.fixture(scope="module")
def masked_run(tmp_path_factory, docker, agent_image):
    base = tmp_path_factory.mktemp("secret-masks")
    repo = hostile_repository(base)
    pipeline, script = write_pipeline(base, secrets_pipeline(), secrets_script())
    done = subprocess.run(
        [str(CLI), "run", str(pipeline), "--repo", str(repo), "--model", f"scripted:{script}",
         "--output", str(base / "out"), "--max-parallel", "3"],
        cwd=base, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    return {"done": done, "repo": repo, "out": base / "out"}


def report(masked_run, step_id: str) -> dict:
    return json.loads((masked_run["out"] / f"{step_id}.json").read_text())


def decoded(value: str) -> bytes:
    assert not value.startswith("error"), value
    return binascii.unhexlify(value)


def git_output(result: dict) -> str:
    return binascii.unhexlify(result["out"]).decode(errors="replace")


def leaked_tokens(text: bytes) -> list[str]:
    return [name for name, token in TOKENS.items() if token.encode() in text]


def test_the_run_completes_every_reading_step(masked_run):
    done = masked_run["done"]
    assert done.returncode == 0, done.stdout + done.stderr
    for step_id in ("repository", "gitdir", "readwrite"):
        assert (masked_run["out"] / f"{step_id}.json").is_file(), done.stdout + done.stderr
    assert "masked" in done.stderr and "Traceback" not in done.stderr


def test_the_host_files_hold_every_token(masked_run):
    """Control: the attack has something to find (and the run changed nothing on the host)."""
    repo = masked_run["repo"]
    host_files = [repo / path.removeprefix("/src/") for path in [*GIT_FILES, *CREDENTIAL_FILES]]
    on_host = b"".join(path.read_bytes() for path in host_files)
    assert sorted(leaked_tokens(on_host)) == sorted(TOKENS)


def test_git_metadata_reads_without_its_credentials_in_a_repository_mount(masked_run):
    files = report(masked_run, "repository")["files"]
    for path in GIT_FILES:
        content = decoded(files[path])
        assert content, f"control: {path} must exist in the container"
        assert leaked_tokens(content) == [], (path, content)
        assert b"***" in content, (path, content)  # the redacted copy, not an empty mask
    config = decoded(files["/src/.git/config"])
    assert CANARY.encode() in config and b'[url "https://***@github.com/"]' in config
    assert b"insteadOf = https://github.com/" in config and b"https://github.com/acme/service.git" in config
    assert CANARY.encode() in decoded(files["/src/.git/modules/lib/config"])


def test_credential_files_read_empty(masked_run):
    files = report(masked_run, "repository")["files"]
    for path in CREDENTIAL_FILES:
        assert decoded(files[path]) == b"", path
    assert (masked_run["repo"] / ".docker" / "config.json").read_text().count(TOKENS["docker"]) == 1


@pytest.mark.parametrize("step_id", ["repository", "gitdir", "readwrite"])
def test_no_token_is_found_in_any_file_of_any_mount(masked_run, step_id):
    found = report(masked_run, step_id)
    assert found["files_read"] > 5, "control: the grep must read the mounts' files"
    hits = {bytes.fromhex(needle).decode(): paths for needle, paths in found["hits"].items()}
    assert {needle: paths for needle, paths in hits.items() if paths and needle != CANARY} == {}
    if step_id != "readwrite":  # the clone is made from commits: it never had the canary
        assert hits[CANARY], "control: the grep must see the canary beside the tokens"


def test_a_mount_of_git_itself_and_of_its_modules_shows_no_credentials(masked_run):
    files = report(masked_run, "gitdir")["files"]
    for path in GIT_DIR_FILES:
        content = decoded(files[path])
        assert content and b"***" in content, (path, content)
        assert leaked_tokens(content) == [], (path, content)


def test_git_still_works_in_every_step_without_the_tokens(masked_run):
    for step_id in ("repository", "gitdir", "readwrite"):
        for command, result in report(masked_run, step_id)["git"].items():
            output = git_output(result)
            assert result["rc"] == 0, (step_id, command, output)
            assert leaked_tokens(output.encode()) == [], (step_id, command, output)
    commands = report(masked_run, "repository")["git"]
    assert "Add submodule lib" in git_output(commands["git -C /src log --oneline"])
    assert "Add submodule inner" in git_output(commands["git -C /src/lib log --oneline"])
    assert "Add inner.py" in git_output(commands["git -C /src/lib/inner log --oneline"])
    assert "https://***@github.com/acme/service.git (push)" in git_output(commands["git -C /src remote -v"])
    assert "Add submodule lib" in git_output(report(masked_run, "gitdir")["git"]["git --git-dir=/gitdir log --oneline"])


def test_no_token_lands_in_the_run_record(masked_run):
    """The agent sent every file it read to the model (`cat`): the transcripts hold no token."""
    record = masked_run["repo"] / ".wave" / "runs"
    written = b"".join(path.read_bytes() for path in record.rglob("*") if path.is_file() and not path.is_symlink())
    assert CANARY.encode() in written, "control: what the agent read reached the transcript"
    assert leaked_tokens(written) == []
