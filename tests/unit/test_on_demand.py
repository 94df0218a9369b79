"""The tables of parts imported on first use: every entry resolves, names a module of the table's own
package (so the import-rule test sees every arrow), and is not imported before it is asked for."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import wave_sandbox
from wave_sandbox.cli.app import COMMANDS
from wave_sandbox.contracts import CHECKERS
from wave_sandbox.on_demand import OnDemand
from wave_sandbox.report.html_report import _RENDERERS as REPORT_RENDERERS

PACKAGE_DIR = Path(wave_sandbox.__file__).parent
TABLES = {
    "wave_sandbox.cli.app.COMMANDS": COMMANDS,
    "wave_sandbox.contracts.CHECKERS": CHECKERS,
    "wave_sandbox.report.html_report._RENDERERS": REPORT_RENDERERS,
}


def table_entries():
    return [(table_name, name) for table_name, table in TABLES.items() for name in table]


def test_every_table_in_the_package_is_tested_here():
    built = []
    for source in sorted(PACKAGE_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "OnDemand":
                built.append(str(source.relative_to(PACKAGE_DIR)))
    assert sorted(built) == ["cli/app.py", "contracts/__init__.py", "report/html_report.py"]


@pytest.mark.parametrize(("table_name", "name"), table_entries())
def test_every_entry_resolves_to_something_callable(table_name, name):
    assert callable(TABLES[table_name][name])


@pytest.mark.parametrize(("table_name", "name"), table_entries())
def test_every_entry_names_a_module_of_its_own_package(table_name, name):
    module = TABLES[table_name].table[name].split(":")[0]
    own_package = ".".join(table_name.split(".")[:2])
    assert module.startswith(own_package + ".")


def test_an_unknown_name_is_a_key_error():
    with pytest.raises(KeyError):
        OnDemand({"known": "json:dumps"})["unknown"]


def test_a_part_is_imported_on_its_first_use_only():
    script = (
        "import sys\n"
        "from wave_sandbox.contracts import ContractCheck, check_contract\n"
        "assert 'jsonschema' not in sys.modules and 'wave_sandbox.contracts.checks' not in sys.modules\n"
        "check = ContractCheck(type='json_schema', source='out.json', schema={'type': 'object'})\n"
        "print(check_contract(check, b'[]'))\n"
        "assert 'jsonschema' in sys.modules\n"
    )
    assert "object" in python_output(script)


def test_markdown_it_is_imported_with_the_first_markdown_artifact_of_a_report():
    script = (
        "import sys\n"
        "from wave_sandbox.report import html_report\n"
        "assert 'markdown_it' not in sys.modules\n"
        "print(html_report._RENDERERS['markdown']('# Title'))\n"
        "assert 'markdown_it' in sys.modules\n"
    )
    assert "<h1>Title</h1>" in python_output(script)


def python_output(script: str) -> str:
    """The stdout of `script` run by a fresh interpreter (nothing imported yet), which must succeed."""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout
