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
