"""wave_sandbox.evidence is copied into the agent image: it may import only the standard library and
itself (it calls the git binary, not a git library)."""

from pathlib import Path

import wave_sandbox.evidence
from tests.unit.import_rules import forbidden_imports, imported_modules, is_allowed

EVIDENCE_PACKAGE_DIR = Path(wave_sandbox.evidence.__file__).parent


def test_evidence_modules_import_only_the_standard_library_and_themselves():
    assert len(list(EVIDENCE_PACKAGE_DIR.rglob("*.py"))) > 10, "the evidence package should have been found"
    assert forbidden_imports(EVIDENCE_PACKAGE_DIR, "wave_sandbox.evidence") == []


def test_the_import_check_catches_forbidden_imports(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("import os\nfrom wave_sandbox.errors import SpecError\nimport git\nfrom .logs import scan_logs\n")
    assert [module for _, module in imported_modules(sneaky) if not is_allowed(module, "wave_sandbox.evidence")] == [
        "wave_sandbox.errors",
        "git",
        ".logs",
    ]


def test_the_agent_image_carries_the_evidence_package():
    from wave_sandbox.sandbox.images import _read_agent_code

    files = _read_agent_code()
    assert "wave_sandbox/evidence/__main__.py" in files
    assert "wave_sandbox/evidence/logs.py" in files
    assert "wave_sandbox/agent/__main__.py" in files
