"""What a changed file is: code, configuration, a dependency pin, a migration, docs or tests.

And, for dependency manifests, which packages a change moved from which version to which.
"""

from __future__ import annotations

import re

__all__ = ["dependency_bumps", "file_kind"]

DEPENDENCY_FILE = re.compile(
    r"(?i)(^|/)(requirements[^/]*\.(txt|in)|constraints[^/]*\.txt|Pipfile(\.lock)?|poetry\.lock|pyproject\.toml|"
    r"setup\.cfg|setup\.py|uv\.lock|package(-lock)?\.json|yarn\.lock|pnpm-lock\.yaml|go\.(mod|sum)|"
    r"Cargo\.(toml|lock)|Gemfile(\.lock)?|pom\.xml|build\.gradle(\.kts)?|composer\.(json|lock))$"
)
TEST_FILE = re.compile(
    r"(?i)(^|/)(tests?|spec|specs|__tests__|testing)/|(^|/)test_[^/]*\.py$|_test\.(py|go|rb)$|"
    r"\.(spec|test)\.[jt]sx?$|(^|/)conftest\.py$"
)
DOC_FILE = re.compile(
    r"(?i)(^|/)(docs?|documentation)/|\.(md|rst|adoc|txt)$|"
    r"(^|/)(README|CHANGELOG|CHANGES|HISTORY|LICENSE|AUTHORS|CONTRIBUTING|NOTICE|CODEOWNERS)[^/]*$"
)
MIGRATION_FILE = re.compile(r"(?i)(^|/)(migrations?|alembic|db/migrate|schema)/|\.sql$")
CONFIG_FILE = re.compile(
    r"(?i)(^|/)(\.env[^/]*|[^/]*\.(ya?ml|toml|ini|cfg|conf|properties|env|json|tf|tfvars|hcl)|"
    r"Dockerfile[^/]*|docker-compose[^/]*|Procfile|[^/]*settings[^/]*\.py|config\.py|[^/]*_config\.py|"
    r"[^/]*\.conf\.py|[^/]*conf\.py)$|(^|/)(config|configs|conf|settings|deploy|k8s|helm|charts|manifests)/"
)
PYTHON_PIN = re.compile(
    r"^[+-]\s*\"?([A-Za-z0-9][A-Za-z0-9_.\-]*)(?:\[[^\]]*\])?\s*(?:==|>=|<=|~=|!=|===|>|<)\s*([\w.*+!\-]+)"
)
JSON_PIN = re.compile(r"^[+-]\s*\"(@?[\w.\-/]+)\"\s*:\s*\"[\^~>=<]*\s*([\w.\-+]+)\"")
GO_PIN = re.compile(r"^[+-]\s*(?:require\s+)?([\w.\-]+/[\w.\-/]+)\s+(v[\w.\-+]+)")
TOML_PIN = re.compile(r"^[+-]\s*([A-Za-z0-9][A-Za-z0-9_.\-]*)\s*=\s*[\"{][^\"]*?([\d][\w.\-+]*)")


def file_kind(path: str) -> str:
    """One of: dependency, test, migration, config, docs, code."""
    if DEPENDENCY_FILE.search(path):
        return "dependency"
    if TEST_FILE.search(path):
        return "test"
    if MIGRATION_FILE.search(path):
        return "migration"
    if CONFIG_FILE.search(path):
        return "config"
    if DOC_FILE.search(path):
        return "docs"
    return "code"


def dependency_bumps(patch: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """{package: (old version, new version)} from the +/- lines of a dependency manifest."""
    old: dict[str, str] = {}
    new: dict[str, str] = {}
    for line in patch:
        for pattern in (PYTHON_PIN, JSON_PIN, GO_PIN, TOML_PIN):
            match = pattern.match(line)
            if match:
                side = new if line.startswith("+") else old
                side[_package_name(match.group(1))] = match.group(2)
                break
    names = dict.fromkeys([*old, *new])
    return {name: (old.get(name), new.get(name)) for name in names if old.get(name) != new.get(name)}


def _package_name(name: str) -> str:
    return name.rsplit("/", 1)[-1].lower().replace("-", "_").replace(".", "_")
