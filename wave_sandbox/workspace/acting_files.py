"""Files on the review branch that act when a reviewer checks the branch out, opens it or builds it.

The agent is untrusted, so the branch it leaves is too: "3 files changed" must not hide a `.envrc`
that direnv runs on `cd`, a `.vscode/tasks.json` that runs on opening the folder, a CI workflow that
runs with the repository's secrets once pushed, a `.gitattributes` that names a filter driver, or a
Makefile that runs on `make`. Every added or changed entry is judged by its mode and its path alone
(never by running or parsing it); deletions act on nothing. Folders match at any depth and names in
any folder (a nested `conftest.py`, `.envrc` or `.gitattributes` acts too); over-warning is cheaper
than a hook missed. The list, by kind:

- executable: any file with git's executable bit (100755).
- CI definition: `.github/workflows/`, `.github/actions/`, `.gitlab-ci.yml` and `.gitlab/`, `.circleci/`,
  `Jenkinsfile`, `azure-pipelines.yml` and `.azure-pipelines/`, `.travis.yml`, `bitbucket-pipelines.yml`,
  `.buildkite/`, `.drone.yml`, `appveyor.yml`, `.cirrus.yml`, `.woodpecker.yml` and `.woodpecker/`,
  `cloudbuild.yaml`, `buildspec.yml`.
- editor or shell hook: `.envrc`, `.vscode/`, `.idea/`,
  `.devcontainer/` and `.devcontainer.json`, `.dir-locals.el`, `.exrc`, `.nvimrc`, `.nvim.lua`, `.lvimrc`.
- git behaviour: `.gitattributes` (filters, diff drivers), `.gitmodules` (submodule URLs), `.lfsconfig`,
  `.husky/`, `lefthook.yml`, `.pre-commit-config.yaml`.
- build or test hook: Makefiles (`Makefile`, `GNUmakefile`, `*.mk`), `CMakeLists.txt`, `*.cmake`, `configure`,
  `configure.ac`, `meson.build`, Gradle, Maven and Ant files, `Rakefile`, `Gemfile`, `*.gemspec`,
  `setup.py`, `setup.cfg`, `pyproject.toml`, `conftest.py`, `pytest.ini`, `tox.ini`, `noxfile.py`,
  `sitecustomize.py`, `usercustomize.py`, `*.pth`, `package.json` (its scripts run on install), `.npmrc`,
  `.yarnrc(.yml)`, `Cargo.toml`, `build.rs`, `.cargo/`, `Dockerfile`s, compose files, `Justfile`,
  `Taskfile.yml`, `Vagrantfile`, Bazel files, Nix files.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from wave_sandbox.workspace.path_rules import INVISIBLE_OR_REORDERING

MODE_EXECUTABLE = 0o100755
MAX_LISTED = 50  # in a commit body or on the console; the run record keeps up to MAX_RECORDED
MAX_RECORDED = 1000

CI_DEFINITION = "CI definition: runs in CI, with the repository's secrets, once pushed"
EDITOR_HOOK = "editor or shell hook: runs when the folder is opened or entered"
GIT_BEHAVIOUR = "git behaviour: changes what git runs or fetches on checkout and commit"
BUILD_HOOK = "build or test hook: runs when the project is built, installed or tested"
EXECUTABLE = "executable"

# (pattern, kind): "folder/*" matches anything under that folder, anything else the file's name (any depth).
PATH_KINDS: tuple[tuple[str, str], ...] = (
    *((pattern, CI_DEFINITION) for pattern in (
        ".github/workflows/*", ".github/actions/*", ".gitlab-ci.yml", ".gitlab/*", ".circleci/*", "Jenkinsfile",
        "azure-pipelines.yml", "azure-pipelines.yaml", ".azure-pipelines/*", ".travis.yml",
        "bitbucket-pipelines.yml", ".buildkite/*", ".drone.yml", "appveyor.yml", ".appveyor.yml", ".cirrus.yml",
        ".woodpecker.yml", ".woodpecker/*", "cloudbuild.yaml", "cloudbuild.yml", "buildspec.yml",
    )),
    *((pattern, EDITOR_HOOK) for pattern in (
        ".envrc", ".vscode/*", ".idea/*", ".devcontainer/*", ".devcontainer.json", ".dir-locals.el", ".exrc",
        ".nvimrc", ".nvim.lua", ".lvimrc",
    )),
    *((pattern, GIT_BEHAVIOUR) for pattern in (
        ".gitattributes", ".gitmodules", ".lfsconfig", ".husky/*", "lefthook.yml", ".lefthook.yml",
        ".pre-commit-config.yaml",
    )),
    *((pattern, BUILD_HOOK) for pattern in (
        "Makefile", "makefile", "GNUmakefile", "*.mk", "CMakeLists.txt", "*.cmake", "configure", "configure.ac",
        "meson.build", "build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts", "gradlew",
        "pom.xml", "build.xml", "mvnw", ".mvn/*", "Rakefile", "Gemfile", "*.gemspec", "setup.py", "setup.cfg",
        "pyproject.toml", "conftest.py", "pytest.ini", "tox.ini", "noxfile.py", "sitecustomize.py",
        "usercustomize.py", "*.pth", "package.json", ".npmrc", ".yarnrc", ".yarnrc.yml", "Cargo.toml", "build.rs",
        ".cargo/*", "Dockerfile", "*.dockerfile", "Dockerfile.*", "docker-compose*.yml", "docker-compose*.yaml",
        "compose.yml", "compose.yaml", "Justfile", "justfile", "Taskfile.yml", "Vagrantfile", "BUILD",
        "BUILD.bazel", "WORKSPACE", "WORKSPACE.bazel", "*.bzl", ".bazelrc", "flake.nix", "shell.nix", "default.nix",
    )),
)


@dataclass(frozen=True)
class ActingFile:
    """A file the branch adds or changes that does something when checked out, opened or built."""

    path: str
    reason: str

    def as_record(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}

    @property
    def shown(self) -> str:
        return f"{printable_path(self.path)} ({self.reason})"


def printable_path(path: str) -> str:
    """The path as it is, or quoted with escapes when it holds anything a terminal would not show as is."""
    if INVISIBLE_OR_REORDERING.search(path) or not path.isprintable():
        return ascii(path)
    return path


def acting_reason(path: str, mode: int) -> str | None:
    """Why the entry at `path` with git `mode` acts when checked out or built (None when it does not)."""
    name = path.rsplit("/", 1)[-1]
    for pattern, kind in PATH_KINDS:
        if "/" in pattern:  # a folder, at any depth: over-warning is cheaper than a missed hook
            if f"/{pattern[:-2]}/" in f"/{path}":
                return kind
        elif fnmatch.fnmatchcase(name, pattern):
            return kind
    if mode == MODE_EXECUTABLE:
        return EXECUTABLE
    return None


def listed_for_reviewer(files: list[ActingFile], limit: int = MAX_LISTED) -> list[str]:
    """One line per acting file, at most `limit`, then how many more there are."""
    lines = [f"  {file.shown}" for file in files[:limit]]
    if len(files) > limit:
        lines.append(f"  ... and {len(files) - limit} more")
    return lines


def acting_files(changed_entries: dict[str, int]) -> list[ActingFile]:
    """The acting ones among `changed_entries` (path -> git mode of what the branch now holds), by path."""
    found = []
    for path in sorted(changed_entries):
        reason = acting_reason(path, changed_entries[path])
        if reason:
            found.append(ActingFile(path, reason))
    return found
