"""What a package copied alone into the agent image may import, checked by reading its source."""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def imported_modules(source_file: Path) -> list[tuple[int, str]]:
    """(line, module) of every import; a relative import shows as its leading dots."""
    tree = ast.parse(source_file.read_text(), filename=str(source_file))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, "." * node.level + (node.module or "")))
    return found


def is_allowed(module: str, own_package: str, third_party: frozenset[str] = frozenset()) -> bool:
    """The standard library, the named third-party packages and the package itself; no relative imports."""
    if module == own_package or module.startswith(own_package + "."):
        return True
    top_level = module.split(".")[0]
    return not module.startswith(".") and (top_level in sys.stdlib_module_names or top_level in third_party)


def forbidden_imports(package_dir: Path, own_package: str, third_party: frozenset[str] = frozenset()) -> list[str]:
    return [
        f"{source.relative_to(package_dir)}:{line}: {module}"
        for source in sorted(package_dir.rglob("*.py"))
        for line, module in imported_modules(source)
        if not is_allowed(module, own_package, third_party)
    ]
