import dataclasses

from wave_sandbox.agent.tools import TOOL_NAMES, execute_tool, tool_schemas
from wave_sandbox.agent.tools import registry

NAVIGATOR_TOOLS = ("bash", "read_file", "write_file", "list_files", "grep")

# The contract of DESIGN.md "Inside a step's container": tool names, their inputs, which are required.
CONTRACT = {
    "bash": ({"command", "timeout_s"}, ["command"]),
    "read_file": ({"path", "offset", "limit"}, ["path"]),
    "write_file": ({"path", "content"}, ["path", "content"]),
    "edit_file": ({"path", "old_text", "new_text"}, ["path", "old_text", "new_text"]),
    "list_files": ({"path", "glob"}, []),
    "grep": ({"pattern", "path", "glob"}, ["pattern"]),
}


def test_schemas_match_the_contract():
    schemas = tool_schemas(TOOL_NAMES)
    assert [schema["name"] for schema in schemas] == list(CONTRACT)
    for schema in schemas:
        properties, required = CONTRACT[schema["name"]]
        assert set(schema["input_schema"]["properties"]) == properties
        assert schema["input_schema"]["required"] == required
        assert schema["input_schema"]["type"] == "object"
        assert 20 < len(schema["description"]) < 400


def test_schemas_keep_the_order_asked_for():
    assert [schema["name"] for schema in tool_schemas(["grep", "bash"])] == ["grep", "bash"]


def test_a_tool_the_step_lacks_is_an_error_and_does_not_run(context, workdir):
    (workdir / "app.py").write_text("x = 1\n")
    result = execute_tool("edit_file", {"path": "app.py", "old_text": "1", "new_text": "2"}, NAVIGATOR_TOOLS, context)
    assert (result.is_error, result.content) == (
        True, "tool 'edit_file' is not available in this step; its tools are: bash, read_file, write_file, list_files, grep")
    assert (workdir / "app.py").read_text() == "x = 1\n"


def test_an_unknown_tool_is_an_error(context):
    result = execute_tool("Read", {"path": "x"}, NAVIGATOR_TOOLS, context)
    assert (result.is_error, result.content) == (
        True, "unknown tool 'Read'; this step's tools are: bash, read_file, write_file, list_files, grep")


def test_bad_inputs_are_errors_that_say_what_is_wrong(context):
    cases = [
        ({"offset": 2}, "invalid input for read_file: missing required field(s) path"),
        ({"path": "a", "lines": 3}, "invalid input for read_file: unknown field(s) lines; expected path, offset, limit"),
        ({"path": "a", "offset": "2"}, "invalid input for read_file: field 'offset' must be an integer, got str"),
        ({"path": "a", "limit": True}, "invalid input for read_file: field 'limit' must be an integer, got bool"),
        ({"path": "a", "offset": 0}, "invalid input for read_file: field 'offset' must be greater than 0, got 0"),
        (["a"], "invalid input for read_file: the input must be a JSON object"),
    ]
    for arguments, message in cases:
        assert execute_tool("read_file", arguments, NAVIGATOR_TOOLS, context).content == message
        assert execute_tool("read_file", arguments, NAVIGATOR_TOOLS, context).is_error is True


def test_null_optional_fields_count_as_absent(context, workdir):
    (workdir / "a.txt").write_text("one\n")
    result = execute_tool("read_file", {"path": "a.txt", "offset": None, "limit": None}, NAVIGATOR_TOOLS, context)
    assert (result.is_error, result.content) == (False, "     1\tone")
    null_required = execute_tool("read_file", {"path": None}, NAVIGATOR_TOOLS, context)
    assert null_required.content == "invalid input for read_file: field 'path' must be a string, got NoneType"


def test_a_bug_in_a_tool_becomes_an_error_result(context, monkeypatch):
    def broken(arguments, context):
        raise KeyError("oops")

    monkeypatch.setitem(registry.TOOLS_BY_NAME, "grep", dataclasses.replace(registry.TOOLS_BY_NAME["grep"], run=broken))
    result = execute_tool("grep", {"pattern": "x"}, NAVIGATOR_TOOLS, context)
    assert (result.is_error, result.content) == (True, "grep failed unexpectedly: KeyError: 'oops'")
