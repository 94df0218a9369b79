"""YAML 1.2 scalars and the line of every key."""

import pytest

from wave_sandbox.spec import yaml_loader
from wave_sandbox.spec.yaml_loader import FASTEST_LOADER, Yaml12Loader, YamlSyntaxError


@pytest.fixture(params=[FASTEST_LOADER, Yaml12Loader], ids=lambda loader: loader.__name__)
def parse_yaml(request):
    """Each test runs on libyaml's parser and on the pure-Python fallback."""
    return lambda text: yaml_loader.parse_yaml(text, request.param)


def test_on_off_yes_no_stay_strings_as_keys_and_values(parse_yaml):
    data = parse_yaml("branch:\n  on: yes\n  off: no\nshort: [y, n, Y, N]\n").data
    assert data == {"branch": {"on": "yes", "off": "no"}, "short": ["y", "n", "Y", "N"]}


@pytest.mark.parametrize("text, value", [
    ("true", True), ("True", True), ("TRUE", True), ("false", False), ("False", False), ("FALSE", False),
    ("'true'", "true"), ('"false"', "false"), ("on", "on"), ("On", "On"), ("OFF", "OFF"), ("yes", "yes"),
])
def test_only_true_and_false_are_booleans(parse_yaml, text, value):
    assert parse_yaml(f"flag: {text}\n").data["flag"] == value


@pytest.mark.parametrize("text, value", [
    ("010", 10), ("0o10", 8), ("0x1F", 31), ("-7", -7), ("1.5", 1.5), ("1e3", 1000.0),
    ("2024-01-01", "2024-01-01"), ("1:30", "1:30"), ("~", None), ("null", None), ("", None),
    ("1_000", "1_000"), (".inf", float("inf")),
])
def test_numbers_dates_and_nulls_follow_yaml_1_2(parse_yaml, text, value):
    assert parse_yaml(f"value: {text}\n").data["value"] == value


def test_every_key_and_item_has_its_line(parse_yaml):
    document = parse_yaml("steps:\n  - id: triage\n    workspace:\n      mount:\n        - source: ./\n")
    assert document.lines[("steps",)] == 1
    assert document.lines[("steps", 0)] == 2
    assert document.lines[("steps", 0, "id")] == 2
    assert document.lines[("steps", 0, "workspace", "mount")] == 4
    assert document.lines[("steps", 0, "workspace", "mount", 0, "source")] == 5


def test_line_of_an_absent_path_is_its_closest_ancestor(parse_yaml):
    document = parse_yaml("a:\n  b:\n    c: 1\n")
    assert document.line_of(("a", "b", "missing")) == 2
    assert document.line_of(("nothing",)) == 1


def test_duplicate_keys_are_recorded_with_their_line(parse_yaml):
    document = parse_yaml("a: 1\nb: 2\na: 3\n")
    assert document.duplicate_keys == [(("a",), 3)]


def test_merge_keys_are_expanded_and_own_keys_win(parse_yaml):
    document = parse_yaml("base: &base {x: 1, y: 2}\nstep:\n  <<: *base\n  y: 3\n")
    assert document.data["step"] == {"x": 1, "y": 3}


def test_syntax_error_names_its_line(parse_yaml):
    with pytest.raises(YamlSyntaxError) as raised:
        parse_yaml("a: 1\nb: [unclosed\nc: 3\n")
    assert raised.value.line >= 2
    assert raised.value.message.startswith("invalid YAML")


def test_two_documents_are_refused(parse_yaml):
    with pytest.raises(YamlSyntaxError):
        parse_yaml("a: 1\n---\nb: 2\n")


def test_empty_text_is_an_empty_document(parse_yaml):
    assert parse_yaml("").data is None
