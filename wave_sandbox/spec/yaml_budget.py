"""Refuse YAML whose node graph is too costly to turn into Python objects, before building anything.

A YAML file is a graph, not a tree: an alias (`*a`) points back at an anchored node, and a merge key
(`<<: *a`) copies one mapping into another. Building Python objects expands every alias, so nine
levels of nine aliases (a 665-byte "billion laughs" file) become 387 million nodes, gigabytes and
a minute of work. An anchor may also contain its own alias (a loop), and deep nesting exhausts the
interpreter's stack. The walk below visits each distinct node once (memoised, iterative), so it
costs what the file costs, and it measures what the expansion would cost:

- the expanded node count may exceed the distinct node count by at most `ALIAS_EXPANSION_BUDGET`
  (files without aliases are never limited by it; a pipeline's own anchors add a few hundred);
- the expanded depth may not exceed `MAX_NESTING_DEPTH` (a pipeline needs about ten);
- no node may contain itself.
"""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, SequenceNode

ALIAS_EXPANSION_BUDGET = 10_000
MAX_NESTING_DEPTH = 100


class YamlBudgetError(Exception):
    """The document is refused; `line` is 1-based, `message` says why in one line."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.message = message
        self.line = line


def children_of(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def check_node_budget(root: Node) -> None:
    """Raise YamlBudgetError when building `root` would loop, nest too deep or expand past the budget."""
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    first_oversized: list[Node] = []
    _walk(root, sizes, depths, first_oversized)
    extra = sizes[id(root)] - len(sizes)
    if extra > ALIAS_EXPANSION_BUDGET:
        culprit = first_oversized[0] if first_oversized else root
        raise YamlBudgetError(
            f"YAML aliases expand to {sizes[id(root)]:,} nodes from {len(sizes):,} written "
            f"(more than {ALIAS_EXPANSION_BUDGET:,} repeated; an alias bomb?); refusing to expand it",
            culprit.start_mark.line + 1,
        )


def _walk(root: Node, sizes: dict[int, int], depths: dict[int, int], first_oversized: list[Node]) -> None:
    """Post-order walk without recursion: expanded size and depth of every distinct node."""
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            _settle(node, sizes, depths, first_oversized)
            on_path.discard(key)
            continue
        if key in sizes:
            continue
        on_path.add(key)
        stack.append((node, True))
        for child in children_of(node):
            if id(child) in on_path:
                message = "a YAML alias refers to a node that contains it (a loop)"
                raise YamlBudgetError(message, child.start_mark.line + 1)
            if id(child) not in sizes:
                stack.append((child, False))


def _settle(node: Node, sizes: dict[int, int], depths: dict[int, int], first_oversized: list[Node]) -> None:
    children = children_of(node)
    sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
    depths[id(node)] = 1 + max((depths[id(child)] for child in children), default=0)
    if depths[id(node)] > MAX_NESTING_DEPTH:
        raise YamlBudgetError(
            f"YAML nested deeper than {MAX_NESTING_DEPTH} levels; flatten the document", node.start_mark.line + 1
        )
    if not first_oversized and sizes[id(node)] > ALIAS_EXPANSION_BUDGET:
        first_oversized.append(node)
