"""Parts that only some runs use, named in an explicit table and imported the first time they are asked for.

A package lists such a part in an `OnDemand` table (name -> "module:attribute", a module of its own) and
reaches it through the table; a run that never needs the part does not pay for importing it. The CLI's
commands are one table (`wave-sandbox run` loads the run command alone), the contract checkers another
(jsonschema and the libraries under it take ~40 ms to import, and most steps declare no JSON Schema
contract). Every entry of every table is resolved by tests/unit/test_on_demand.py.
"""

from __future__ import annotations

import importlib
from typing import Any


class OnDemand:
    """name -> "module:attribute", each imported on first use and kept."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = dict(table)
        self._resolved: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        """The attribute that `name` names, its module imported on the first call (KeyError: no such entry)."""
        if name not in self._resolved:
            module_name, attribute = self.table[name].split(":")
            self._resolved[name] = getattr(importlib.import_module(module_name), attribute)
        return self._resolved[name]

    def __contains__(self, name: object) -> bool:
        return name in self.table

    def __iter__(self):
        return iter(self.table)
