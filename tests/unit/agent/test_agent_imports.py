"""wave_sandbox.agent is copied alone into the agent image: it may import only the standard library,
`anthropic`, and itself."""

import ast
import sys
from pathlib import Path

import wave_sandbox.agent

AGENT_PACKAGE_DIR = Path(wave_sandbox.agent.__file__).parent
ALLOWED_THIRD_PARTY = {"anthropic"}


def imported_modules(source_file: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import; relative imports stay inside the package."""
    tree = ast.parse(source_file.read_text(), filename=str(source_file))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def is_allowed(module: str) -> bool:
    top_level = module.split(".")[0]
    if module == "wave_sandbox.agent" or module.startswith("wave_sandbox.agent."):
        return True
    return top_level in sys.stdlib_module_names or top_level in ALLOWED_THIRD_PARTY


def test_agent_modules_import_only_stdlib_anthropic_and_the_agent_package():
    sources = sorted(AGENT_PACKAGE_DIR.rglob("*.py"))
    assert len(sources) > 5, "the agent package should have been found"
    offending = [
        f"{source.relative_to(AGENT_PACKAGE_DIR)}:{line}: {module}"
        for source in sources
        for line, module in imported_modules(source)
        if not is_allowed(module)
    ]
    assert offending == []


def test_the_import_check_catches_a_forbidden_import(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("import os\nfrom wave_sandbox.errors import SpecError\nimport yaml\nfrom . import tools\n")
    assert [module for _, module in imported_modules(sneaky) if not is_allowed(module)] == [
        "wave_sandbox.errors",
        "yaml",
    ]
