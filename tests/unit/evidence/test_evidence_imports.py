"""wave_sandbox.evidence is copied into the agent image: it may import only the standard library and
itself (it calls the git binary, not a git library)."""

import ast
import sys
from pathlib import Path

import wave_sandbox.evidence

EVIDENCE_PACKAGE_DIR = Path(wave_sandbox.evidence.__file__).parent


def imported_modules(source_file: Path) -> list[tuple[int, str]]:
    tree = ast.parse(source_file.read_text(), filename=str(source_file))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, "." * node.level + (node.module or "")))
    return found


def is_allowed(module: str) -> bool:
    if module == "wave_sandbox.evidence" or module.startswith("wave_sandbox.evidence."):
        return True
    return not module.startswith(".") and module.split(".")[0] in sys.stdlib_module_names


def test_evidence_modules_import_only_the_standard_library_and_themselves():
    sources = sorted(EVIDENCE_PACKAGE_DIR.rglob("*.py"))
    assert len(sources) > 10, "the evidence package should have been found"
    offending = [
        f"{source.relative_to(EVIDENCE_PACKAGE_DIR)}:{line}: {module}"
        for source in sources
        for line, module in imported_modules(source)
        if not is_allowed(module)
    ]
    assert offending == []


def test_the_import_check_catches_forbidden_imports(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("import os\nfrom wave_sandbox.errors import SpecError\nimport git\nfrom .logs import scan_logs\n")
    assert [module for _, module in imported_modules(sneaky) if not is_allowed(module)] == [
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
