"""The tools offered to the model: their names, descriptions and input schemas (a contract), and dispatch.

Whatever goes wrong in a tool call (a tool the step lacks, an unknown tool, bad input, a failing
operation, even a bug in a tool) becomes an is_error result for the model, never a crash of the agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from wave_sandbox.agent.tools.files import DEFAULT_READ_LIMIT_LINES, edit_file, read_file, write_file
from wave_sandbox.agent.tools.output import ToolContext, ToolFailure, ToolResult, describe_os_error
from wave_sandbox.agent.tools.search import MAX_GREP_MATCHES, MAX_LISTED_FILES, grep, list_files
from wave_sandbox.agent.tools.shell import run_bash


@dataclass(frozen=True)
class ToolDefinition:
    """One tool as the model sees it (name, description, input schema) and the function that runs it."""

    name: str
    description: str
    properties: dict[str, dict]
    required: tuple[str, ...]
    run: Callable[[dict, ToolContext], ToolResult]

    def schema(self) -> dict:
        """The entry of the Messages API `tools` list."""
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": {
                "type": "object",
                "properties": self.properties,
                "required": list(self.required),
                "additionalProperties": False,
            },
        }


def text_property(description: str) -> dict:
    return {"type": "string", "description": description}


PATH_PROPERTY = text_property("File path; relative paths resolve against the working directory.")

TOOL_DEFINITIONS: tuple[ToolDefinition, ...] = (
    ToolDefinition(
        "bash",
        "Run a shell command with `/bin/bash -lc` in the working directory. Returns the exit code and the "
        "combined stdout and stderr (long output keeps its head and tail). Every call is a fresh shell: `cd` "
        "and variables do not carry over, and background processes are killed when the command returns.",
        {
            "command": text_property("The command to run."),
            "timeout_s": {
                "type": "number",
                "description": "Seconds before the command is killed; raise it for slow builds and tests.",
            },
        },
        ("command",),
        run_bash,
    ),
    ToolDefinition(
        "read_file",
        "Read a text file. Lines come numbered like `cat -n` (the numbers are not part of the file). "
        "Binary files are not shown.",
        {
            "path": PATH_PROPERTY,
            "offset": {"type": "integer", "description": "First line to show, counting from 1 (default 1)."},
            "limit": {
                "type": "integer",
                "description": f"How many lines to show (default {DEFAULT_READ_LIMIT_LINES}).",
            },
        },
        ("path",),
        read_file,
    ),
    ToolDefinition(
        "write_file",
        "Create or overwrite a file with the given content (UTF-8). Missing parent folders are created.",
        {"path": PATH_PROPERTY, "content": text_property("The complete new content of the file.")},
        ("path", "content"),
        write_file,
    ),
    ToolDefinition(
        "edit_file",
        "Replace old_text with new_text in a file. old_text must be copied exactly from the file "
        "(whitespace included, without read_file's line numbers) and must occur exactly once.",
        {
            "path": PATH_PROPERTY,
            "old_text": text_property("The exact text to replace; add surrounding lines to make it unique."),
            "new_text": text_property("The replacement text."),
        },
        ("path", "old_text", "new_text"),
        edit_file,
    ),
    ToolDefinition(
        "list_files",
        f"List the files under a folder, recursively and sorted, skipping .git (at most {MAX_LISTED_FILES}).",
        {
            "path": text_property("Folder to list (default: the working directory)."),
            "glob": text_property("Only files whose relative path or name matches this pattern, e.g. `*.py`."),
        },
        (),
        list_files,
    ),
    ToolDefinition(
        "grep",
        "Search file contents for a regular expression. Returns `file:line:text` lines (at most "
        f"{MAX_GREP_MATCHES}). Searches hidden and git-ignored files; skips .git and binary files.",
        {
            "pattern": text_property("Regular expression (ripgrep syntax)."),
            "path": text_property("File or folder to search (default: the working directory)."),
            "glob": text_property("Only files whose relative path or name matches this pattern, e.g. `*.log`."),
        },
        ("pattern",),
        grep,
    ),
)

TOOLS_BY_NAME = {definition.name: definition for definition in TOOL_DEFINITIONS}
TOOL_NAMES = tuple(TOOLS_BY_NAME)
JSON_TYPE_CHECKS: dict[str, Callable[[object], bool]] = {
    "string": lambda value: isinstance(value, str),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
}


def tool_schemas(names: tuple[str, ...] | list[str]) -> list[dict]:
    """The Messages API `tools` list for these tool names, in their order."""
    return [TOOLS_BY_NAME[name].schema() for name in names]


def execute_tool(name: str, arguments: object, allowed: tuple[str, ...], context: ToolContext) -> ToolResult:
    """Run one tool call from the model; every failure comes back as an is_error result."""
    if name not in TOOLS_BY_NAME:
        return ToolResult(f"unknown tool '{name}'; this step's tools are: {', '.join(allowed)}", is_error=True)
    if name not in allowed:
        return ToolResult(f"tool '{name}' is not available in this step; its tools are: {', '.join(allowed)}",
                          is_error=True)
    definition = TOOLS_BY_NAME[name]
    checked = check_tool_input(definition, arguments)
    if isinstance(checked, str):
        return ToolResult(f"invalid input for {name}: {checked}", is_error=True)
    return run_guarded(definition, checked, context)


def run_guarded(definition: ToolDefinition, arguments: dict, context: ToolContext) -> ToolResult:
    try:
        return definition.run(arguments, context)
    except ToolFailure as failure:
        return ToolResult(str(failure), is_error=True)
    except OSError as exc:
        return ToolResult(describe_os_error(exc, exc.filename or "?"), is_error=True)
    except Exception as exc:  # a bug in a tool must cost the model one turn, not the whole step
        return ToolResult(f"{definition.name} failed unexpectedly: {exc.__class__.__name__}: {exc}", is_error=True)


def check_tool_input(definition: ToolDefinition, arguments: object) -> dict | str:
    """The input with null optional fields dropped, or a sentence saying what is wrong with it."""
    if not isinstance(arguments, dict):
        return "the input must be a JSON object"
    # Models sometimes send `"offset": null` for an optional field they mean to leave out.
    present = {key: value for key, value in arguments.items() if value is not None or key in definition.required}
    unknown = sorted(set(present) - set(definition.properties))
    if unknown:
        return f"unknown field(s) {', '.join(unknown)}; expected {', '.join(definition.properties)}"
    missing = [key for key in definition.required if key not in present]
    if missing:
        return f"missing required field(s) {', '.join(missing)}"
    for key, value in present.items():
        problem = check_field(key, definition.properties[key]["type"], value)
        if problem:
            return problem
    return present


def check_field(key: str, json_type: str, value: object) -> str | None:
    if not JSON_TYPE_CHECKS[json_type](value):
        article = "an" if json_type == "integer" else "a"
        return f"field '{key}' must be {article} {json_type}, got {type(value).__name__}"
    if json_type in ("integer", "number") and value <= 0:
        return f"field '{key}' must be greater than 0, got {value}"
    return None
