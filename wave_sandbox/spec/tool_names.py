"""The tools offered to the model inside a step, and Wave's names for them.

Our names and inputs are a contract with the agent (see DESIGN.md "Inside a step's container");
Wave (after Claude Code) calls them Read, Write, Edit, Bash, Glob and Grep in `allowed_tools`.
"""

from __future__ import annotations

AGENT_TOOLS = ("bash", "read_file", "write_file", "edit_file", "list_files", "grep")

WAVE_TOOL_TO_AGENT_TOOL = {
    "Read": "read_file",
    "Write": "write_file",
    "Edit": "edit_file",
    "Bash": "bash",
    "Glob": "list_files",
    "Grep": "grep",
}


def tools_of_rule(rule: str) -> tuple[list[str], bool]:
    """The sandbox tools a Wave permission rule names, and whether it is a pattern (`Bash(git log*)`,
    which the sandbox cannot enforce: the tool itself is meant, and the pattern is advisory).
    `"*"` is every tool; a name the sandbox has no tool for gives none."""
    if rule == "*":
        return list(AGENT_TOOLS), False
    name, is_pattern = (rule.split("(", 1)[0], True) if rule.endswith(")") and "(" in rule else (rule, False)
    tool = WAVE_TOOL_TO_AGENT_TOOL.get(name)
    return ([tool] if tool else []), is_pattern
