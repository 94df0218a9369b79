"""Prompt templates: `{{ input }}`, `{{input}}` and a few more, substituted in one pass.

One regular-expression pass replaces every placeholder at once, so text that came in through a
variable (an incident description containing `{{ run.id }}`, say) is never expanded again.
"""

from __future__ import annotations

import re
from typing import Literal

PLACEHOLDER_PATTERN = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
PROJECT_VARIABLE = re.compile(r"^project\.\w+(?:\.\w+)*$")

SUPPORTED_VARIABLES = ("input", "pipeline_id", "pipeline_name", "step_id", "run.id")

# Variables Wave itself fills in, which we cannot fill yet: worth a different message than a typo.
WAVE_ONLY_VARIABLES = frozenset({"task", "item", "ontology"})
WAVE_ONLY_PREFIXES = ("ontology.", "item.", "loop.")
# Wave's variables filled from the repository and the run (wave_variables.py); a name under these
# prefixes that has no value is left as Wave leaves it (`project.*` becomes empty, as in Wave).
WAVE_VARIABLES = frozenset({"branch_name", "feature_num", "run.name"})
WAVE_PREFIXES = ("pipeline_context.", "artifacts.", "forge.", "project.", "steps.")

VariableKind = Literal["supported", "wave-only", "unknown"]


def placeholders_in(text: str) -> list[str]:
    """The variable names of the placeholders in `text`, in order, each once."""
    names: list[str] = []
    for match in PLACEHOLDER_PATTERN.finditer(text):
        if match.group(1) not in names:
            names.append(match.group(1))
    return names


def classify_variable(name: str) -> VariableKind:
    """`supported` (we fill it), `wave-only` (Wave fills it, we do not yet) or `unknown`."""
    if name in SUPPORTED_VARIABLES or name in WAVE_VARIABLES or name.startswith(WAVE_PREFIXES):
        return "supported"
    if name in WAVE_ONLY_VARIABLES or name.startswith(WAVE_ONLY_PREFIXES):
        return "wave-only"
    return "unknown"


def template_problems(text: str) -> list[str]:
    """One message per placeholder that `render_template` could not fill."""
    messages = []
    for name in placeholders_in(text):
        kind = classify_variable(name)
        if kind == "wave-only":
            messages.append(f"template variable '{name}' is not supported by wave-sandbox yet")
    return messages


def render_template(text: str, variables: dict[str, str]) -> str:
    """Replace each placeholder whose name is in `variables`; leave any other placeholder as it is.

    Keys are the names of SUPPORTED_VARIABLES ("input", "pipeline_id", "pipeline_name",
    "step_id", "run.id"). Substituted text is never scanned again.
    """

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables:
            return variables[name]
        return "" if PROJECT_VARIABLE.match(name) else match.group(0)  # Wave strips unset project.* fields

    return PLACEHOLDER_PATTERN.sub(substitute, text)
