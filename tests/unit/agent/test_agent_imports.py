"""wave_sandbox.agent is copied alone into the agent image: it may import only the standard library,
`anthropic` (with its own HTTP client, `httpx2`, or `httpx` in older releases), and itself."""

from pathlib import Path

import wave_sandbox.agent
from tests.unit.import_rules import forbidden_imports, imported_modules, is_allowed

AGENT_PACKAGE_DIR = Path(wave_sandbox.agent.__file__).parent
ALLOWED_THIRD_PARTY = frozenset({"anthropic", "httpx2", "httpx"})


def test_agent_modules_import_only_stdlib_anthropic_its_http_client_and_the_agent_package():
    assert len(list(AGENT_PACKAGE_DIR.rglob("*.py"))) > 5, "the agent package should have been found"
    assert forbidden_imports(AGENT_PACKAGE_DIR, "wave_sandbox.agent", ALLOWED_THIRD_PARTY) == []


def test_the_import_check_catches_a_forbidden_import(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("import os\nfrom wave_sandbox.errors import SpecError\nimport yaml\nimport anthropic\n")
    assert [
        module
        for _, module in imported_modules(sneaky)
        if not is_allowed(module, "wave_sandbox.agent", ALLOWED_THIRD_PARTY)
    ] == ["wave_sandbox.errors", "yaml"]
