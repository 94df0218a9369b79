"""Read YAML the way Wave (Go, yaml.v3) reads it, and remember the line of every key.

Two things PyYAML gets "wrong" for us:

- It speaks YAML 1.1, where `on`, `off`, `yes`, `no`, `y` and `n` are booleans, `010` is octal and
  `2024-01-01` is a date. Wave writes `branch: {on: ...}`, so we resolve plain scalars by the YAML 1.2
  core schema instead: only `true`/`false` (and their capitalised forms) are booleans.
- It forgets where things were. Every problem we report names `FILE:LINE`, so while building the
  Python objects we record the line of each mapping key and sequence item, keyed by its path tuple
  (`("steps", 0, "workspace", "mount")`).

Duplicate keys are reported (PyYAML silently keeps the last one). A document whose aliases would
expand past a small budget, that nests too deep or loops is refused before anything is built
(`yaml_budget`): every YAML file a repository gives us passes through here. libyaml's parser is used when
PyYAML has it (it still calls our resolver); the pure-Python parser is the fallback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from wave_sandbox.spec.yaml_budget import YamlBudgetError, check_node_budget

Path_ = tuple[str | int, ...]

MERGE_KEY_TAG = "tag:yaml.org,2002:merge"


@dataclass
class YamlDocument:
    """A parsed YAML document plus the 1-based line of every key and item, by path."""

    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    duplicate_keys: list[tuple[Path_, int]] = field(default_factory=list)

    def line_of(self, path: Path_) -> int:
        """Line of `path`, or of its closest recorded ancestor (1 for the document itself)."""
        for length in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:length]))
            if line is not None:
                return line
        return 1


class YamlSyntaxError(Exception):
    """The text is not YAML; `line` is 1-based, `message` says what the parser expected."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.message = message
        self.line = line


class Yaml12Resolver(BaseResolver):
    """Plain-scalar resolution of the YAML 1.2 core schema (plus merge keys, which yaml.v3 keeps)."""

    yaml_implicit_resolvers: dict = {}


Yaml12Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
Yaml12Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
Yaml12Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+.0123456789"),
)
Yaml12Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
Yaml12Resolver.add_implicit_resolver(MERGE_KEY_TAG, re.compile(r"^(?:<<)$"), ["<"])


class Yaml12Constructor(SafeConstructor):
    """SafeConstructor with YAML 1.2 integers (`0o17` octal, `017` decimal)."""

    def construct_yaml_int(self, node: ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text, 10)


Yaml12Constructor.add_constructor("tag:yaml.org,2002:int", Yaml12Constructor.construct_yaml_int)


class Yaml12Loader(Reader, Scanner, Parser, Composer, Yaml12Constructor, Yaml12Resolver):
    """A safe loader that resolves scalars by YAML 1.2; used through `parse_yaml`."""

    def __init__(self, stream: str):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        Yaml12Constructor.__init__(self)
        Yaml12Resolver.__init__(self)


if getattr(yaml, "__with_libyaml__", False):

    from yaml._yaml import CParser

    class Yaml12CLoader(CParser, Yaml12Constructor, Yaml12Resolver):
        """The same loader on libyaml's parser, about ten times faster; it calls our resolver."""

        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            Yaml12Constructor.__init__(self)
            Yaml12Resolver.__init__(self)

    FASTEST_LOADER: type = Yaml12CLoader
else:  # pragma: no cover - PyYAML built without libyaml
    FASTEST_LOADER = Yaml12Loader


def parse_yaml(text: str, loader_class: type | None = None) -> YamlDocument:
    """Parse one YAML document; raise YamlSyntaxError (with a line) when it is not valid YAML."""
    loader = (loader_class or FASTEST_LOADER)(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return YamlDocument(data=None)
        check_node_budget(root)
        document = YamlDocument(data=None)
        document.data = _build(loader, root, (), document)
        return document
    except YamlBudgetError as error:
        raise YamlSyntaxError(error.message, error.line) from error
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(error) from error
    except (ValueError, yaml.YAMLError) as error:
        raise YamlSyntaxError(str(error).splitlines()[0], 1) from error
    finally:
        loader.dispose()


def _syntax_error(error: yaml.MarkedYAMLError) -> YamlSyntaxError:
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else 1
    parts = [part for part in (error.context, error.problem) if part]
    return YamlSyntaxError("invalid YAML: " + ", ".join(parts), line)


def _build(loader: Yaml12Loader, node: Node, path: Path_, document: YamlDocument) -> Any:
    """Turn a node into Python objects, recording lines on the way down."""
    if isinstance(node, MappingNode):
        return _build_mapping(loader, node, path, document)
    if isinstance(node, SequenceNode):
        return _build_sequence(loader, node, path, document)
    return loader.construct_object(node, deep=True)


def _build_sequence(loader: Yaml12Loader, node: SequenceNode, path: Path_, document: YamlDocument) -> list:
    items = []
    for index, item_node in enumerate(node.value):
        item_path = path + (index,)
        document.lines[item_path] = item_node.start_mark.line + 1
        items.append(_build(loader, item_node, item_path, document))
    return items


def _build_mapping(loader: Yaml12Loader, node: MappingNode, path: Path_, document: YamlDocument) -> dict:
    result: dict = {}
    for key_node, value_node in _merged_pairs(node):
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise YamlSyntaxError("invalid YAML: a mapping key must be a plain value", key_node.start_mark.line + 1)
        key_path = path + (key,)
        key_line = key_node.start_mark.line + 1
        if key in result:
            document.duplicate_keys.append((key_path, key_line))
        document.lines[key_path] = key_line
        result[key] = _build(loader, value_node, key_path, document)
    return result


def _merged_pairs(node: MappingNode) -> list[tuple[Node, Node]]:
    """The mapping's pairs with `<<: *anchor` merges expanded (own keys win, as in yaml.v3)."""
    merged: list[tuple[Node, Node]] = []
    own: list[tuple[Node, Node]] = []
    for key_node, value_node in node.value:
        if key_node.tag == MERGE_KEY_TAG:
            merged.extend(_pairs_to_merge(value_node))
        else:
            own.append((key_node, value_node))
    own_keys = {key_node.value for key_node, _ in own if isinstance(key_node, ScalarNode)}
    kept = [(k, v) for k, v in merged if not (isinstance(k, ScalarNode) and k.value in own_keys)]
    return _drop_repeated_merge_keys(kept) + own


def _pairs_to_merge(value_node: Node) -> list[tuple[Node, Node]]:
    sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
    pairs: list[tuple[Node, Node]] = []
    for source in sources:
        if not isinstance(source, MappingNode):
            raise ConstructorError(
                "while constructing a mapping", value_node.start_mark,
                "a merge key (<<) needs a mapping or a list of mappings", source.start_mark,
            )
        pairs.extend(_merged_pairs(source))
    return pairs


def _drop_repeated_merge_keys(pairs: list[tuple[Node, Node]]) -> list[tuple[Node, Node]]:
    """When several merged mappings share a key, the first one wins (YAML merge semantics)."""
    seen: set[str] = set()
    kept = []
    for key_node, value_node in pairs:
        name = key_node.value if isinstance(key_node, ScalarNode) else id(key_node)
        if name in seen:
            continue
        seen.add(name)
        kept.append((key_node, value_node))
    return kept
