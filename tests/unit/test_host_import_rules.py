"""The layering of the host packages, checked by reading every import (module-level and inside
functions): what each package may import, no engine -> Docker or engine -> CLI arrow, and no import
cycle among the packages nor among the modules."""

from __future__ import annotations

import ast
import functools
from collections import defaultdict
from pathlib import Path

import wave_sandbox

PACKAGE_DIR = Path(wave_sandbox.__file__).parent

# Package (or top-level module) -> the wave_sandbox packages it may import besides itself. The CLI may
# import anything and nothing may import it. The engine reaches the sandbox only through its interface.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "text_safety": set(),
    "bind_mount": set(),  # the one mount value, from the spec to the backend
    "secret_redaction": set(),  # the one redactor, for the gateway's transcripts and the run's files
    "resources": set(),
    "units": set(),  # 90s, 15m, 7d and 2.1k: for flags, settings and displays alike
    "on_demand": set(),  # the tables of parts imported on first use (each names modules of its own package)
    "held_signals": set(),  # Ctrl-C held off for a block (ignored or deferred): cleanup, teardown, the run loop's wait
    "personas": set(),  # the built-in personas' files
    "agent": set(),  # runs in the container: stdlib + anthropic (test_agent_imports.py)
    "evidence": set(),  # runs in the container too: stdlib only (test_evidence_imports.py)
    "contracts": {"errors", "text_safety", "on_demand"},
    "spec": {"errors", "text_safety", "bind_mount", "resources", "contracts"},
    "settings": {"errors", "text_safety", "spec", "units"},
    "gateway": {"errors", "text_safety", "secret_redaction", "spec", "settings"},
    "workspace": {"errors", "text_safety", "bind_mount", "secret_redaction", "spec", "settings"},
    "sandbox": {"errors", "text_safety", "bind_mount", "resources", "spec", "settings", "held_signals"},
    "engine": {"errors", "text_safety", "bind_mount", "secret_redaction", "spec", "workspace", "gateway", "contracts",
               "settings", "sandbox", "held_signals"},
    "report": {"errors", "text_safety", "units", "on_demand", "engine", "workspace"},  # read-only views of a run's record
    "cli": {"*"},
}
ENGINE_MAY_IMPORT_OF_SANDBOX = {"wave_sandbox.sandbox.backend"}
DOCKER_SDK_ONLY_IN = {"sandbox"}
THIRD_PARTY_DOCKER = ("docker", "requests")

# Arrows other branches remove; each names the file, so a new one of the same kind still fails.
PENDING: dict[tuple[str, str], set[str]] = {}


def module_name(source: Path) -> str:
    parts = list(source.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "wave_sandbox" and len(parts) > 1 else None


@functools.cache
def imports_of(source: Path) -> list[tuple[int, str, bool]]:
    """(line, imported module, inside `if TYPE_CHECKING`) of every absolute import, at any depth."""
    tree = ast.parse(source.read_text(), filename=str(source))
    type_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, id(node) in type_only) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:  # `from package import module` names the module
                candidate = f"{node.module}.{alias.name}"
                target = candidate if _is_module(candidate) else node.module
                found.append((node.lineno, target, id(node) in type_only))
    return found


def _is_module(name: str) -> bool:
    path = PACKAGE_DIR.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def host_sources() -> list[Path]:
    return sorted(PACKAGE_DIR.rglob("*.py"))


def forbidden_arrows() -> list[str]:
    problems = []
    for source in host_sources():
        own = package_of(module_name(source))
        relative = str(source.relative_to(PACKAGE_DIR))
        for line, target, _type_only in imports_of(source):
            problem = _arrow_problem(own, relative, target)
            if problem:
                problems.append(f"{relative}:{line}: {target} ({problem})")
    return problems


def _arrow_problem(own: str | None, relative: str, target: str) -> str | None:
    top = target.split(".")[0]
    if top in THIRD_PARTY_DOCKER and own not in DOCKER_SDK_ONLY_IN:
        return "the Docker SDK belongs to the sandbox package"
    other = package_of(target)
    if other is None or other == own or own is None:
        return None
    if own == "engine" and other == "sandbox" and target not in ENGINE_MAY_IMPORT_OF_SANDBOX:
        return "the engine reaches the sandbox only through sandbox.backend"
    if relative in PENDING.get((own, other), set()):
        return None
    if "*" in ALLOWED[own] or other in ALLOWED[own]:
        return None
    return f"{own} may import only {sorted(ALLOWED[own]) or 'nothing of wave_sandbox'}"


def module_graph(include_type_only: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for source in host_sources():
        module = module_name(source)
        for _line, target, type_only in imports_of(source):
            if target.startswith("wave_sandbox.") and target != module and not module.startswith(target + "."):
                if include_type_only or not type_only:
                    graph[module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def package_graph() -> dict[str, set[str]]:
    packages: dict[str, set[str]] = defaultdict(set)
    for source in host_sources():
        own = package_of(module_name(source))
        relative = str(source.relative_to(PACKAGE_DIR))
        for _line, target, _type_only in imports_of(source):
            other = package_of(target)
            if own and other and other != own and relative not in PENDING.get((own, other), set()):
                packages[own].add(other)
    return packages


def test_every_host_package_imports_only_what_its_layer_allows():
    assert set(ALLOWED) >= {package_of(module_name(s)) for s in host_sources()} - {None}, "a package has no rule"
    assert forbidden_arrows() == []


def test_the_engine_imports_neither_docker_nor_the_cli_nor_sandbox_modules_but_the_interface():
    engine_imports = {
        target for source in (PACKAGE_DIR / "engine").rglob("*.py") for _line, target, _t in imports_of(source)
    }
    assert len(engine_imports) > 20, "the engine's imports should have been read"
    assert not {t for t in engine_imports if t.split(".")[0] in THIRD_PARTY_DOCKER}
    assert not {t for t in engine_imports if t.startswith("wave_sandbox.cli")}
    assert {t for t in engine_imports if t.startswith("wave_sandbox.sandbox")} == ENGINE_MAY_IMPORT_OF_SANDBOX


def test_no_cycle_among_the_host_packages():
    assert cycles(package_graph()) == []


def test_no_cycle_among_the_modules_that_run():
    assert cycles(module_graph(include_type_only=False)) == []


def test_the_pending_arrows_are_still_the_only_exceptions():
    """Each pending arrow names files that really hold it: once another branch removes one, this fails
    until its entry leaves PENDING (so the exception cannot outlive its reason)."""
    stale = [
        (own, other, relative)
        for (own, other), files in PENDING.items()
        for relative in files
        if not (PACKAGE_DIR / relative).exists()
        or other not in {package_of(t) for _line, t, _type in imports_of(PACKAGE_DIR / relative)}
    ]
    assert stale == []


def test_the_checks_catch_a_wrong_arrow_a_docker_import_and_a_cycle(tmp_path):
    assert _arrow_problem("engine", "engine/x.py", "wave_sandbox.sandbox.docker_sandbox")
    assert _arrow_problem("engine", "engine/x.py", "wave_sandbox.cli.render")
    assert _arrow_problem("engine", "engine/x.py", "docker.errors")
    assert _arrow_problem("cli", "cli/doctor_cmd.py", "docker")
    assert _arrow_problem("spec", "spec/x.py", "wave_sandbox.engine.records")
    assert _arrow_problem("engine", "engine/x.py", "wave_sandbox.sandbox.backend") is None
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    hidden = tmp_path / "hidden.py"
    hidden.write_text("def f():\n    from wave_sandbox.cli import render\nif TYPE_CHECKING:\n    import docker\n")
    assert [(target, type_only) for _line, target, type_only in imports_of(hidden)] == [
        ("wave_sandbox.cli.render", False),
        ("docker", True),
    ]
