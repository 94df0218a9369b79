"""The tool-call recovery the smoke test relies on, on every shape seen from llama.cpp's server."""

from __future__ import annotations

from types import SimpleNamespace

from tests.local_model.tool_calls import from_chat_message, from_messages_content, from_text


def test_bare_json_text_is_a_call():
    found = from_text(' {"name": "write_file", "arguments": {"path": "a.txt"}}\n')
    assert (found.shape, found.name, found.arguments) == ("json_text", "write_file", {"path": "a.txt"})


def test_tagged_json_inside_prose_is_a_call():
    found = from_text('Sure.\n<tool_call>\n{"name": "read_file", "parameters": {"path": "b"}}\n</tool_call>')
    assert (found.shape, found.name, found.arguments) == ("tagged_text", "read_file", {"path": "b"})


def test_prose_code_and_json_without_a_name_are_not_calls():
    assert from_text("```python\nopen('hello.txt', 'w')\n```") is None
    assert from_text('{"text": "done"}') is None
    assert from_text('["write_file"]') is None


def test_native_calls_win_over_text():
    blocks = [SimpleNamespace(type="text", text='{"name": "other", "arguments": {}}'),
              SimpleNamespace(type="tool_use", name="write_file", input={"path": "a"})]
    assert from_messages_content(blocks).shape == "native"
    message = {"content": None, "tool_calls": [
        {"type": "function", "function": {"name": "write_file", "arguments": '{"path": "a"}'}}]}
    found = from_chat_message(message)
    assert (found.shape, found.name, found.arguments) == ("native", "write_file", {"path": "a"})
