"""The tools the agent offers to the model: bash, read_file, write_file, edit_file, list_files, grep.

    registry.py   names, descriptions and input schemas (a contract); input checks; dispatch
    shell.py      bash
    files.py      read_file, write_file, edit_file
    search.py     list_files, grep
    output.py     ToolResult, ToolContext, truncation with a marker, binary detection
"""

from wave_sandbox.agent.tools.output import ToolContext, ToolResult
from wave_sandbox.agent.tools.registry import TOOL_NAMES, execute_tool, tool_schemas

__all__ = ["TOOL_NAMES", "ToolContext", "ToolResult", "execute_tool", "tool_schemas"]
