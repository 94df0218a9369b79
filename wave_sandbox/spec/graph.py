"""Dependency-graph questions validation asks: what is upstream of a step, and which cycles exist.

`dependencies` maps each step id to the ids it depends on (declaration order kept), so an edge
`b -> a` in that mapping means "b waits for a".
"""

from __future__ import annotations


def upstream_of(step_id: str, dependencies: dict[str, list[str]]) -> set[str]:
    """Every step `step_id` waits for, directly or through other steps."""
    seen: set[str] = set()
    pending = list(dependencies.get(step_id, []))
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        pending.extend(dependencies.get(current, []))
    return seen


def find_cycles(dependencies: dict[str, list[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of steps, in running order, starting and ending
    with its first-declared step: `[a, b, a]` when a waits for b and b waits for a."""
    order = list(dependencies)
    cycles = []
    for component in strongly_connected_components(dependencies):
        start = min(component, key=order.index)
        if len(component) > 1 or start in dependencies.get(start, []):
            cycles.append(_cycle_through(start, component, dependencies))
    return sorted(cycles, key=lambda cycle: order.index(cycle[0]))


def strongly_connected_components(dependencies: dict[str, list[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative so a long chain of steps cannot exhaust the stack."""
    index_of: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in dependencies:
        if root in index_of:
            continue
        work = [(root, 0)]
        while work:
            node, child_position = work.pop()
            if child_position == 0:
                index_of[node] = lowlink[node] = len(index_of)
                stack.append(node)
                on_stack.add(node)
            children = [c for c in dependencies.get(node, []) if c in dependencies]
            if child_position < len(children):
                work.append((node, child_position + 1))
                child = children[child_position]
                if child not in index_of:
                    work.append((child, 0))
                elif child in on_stack:
                    lowlink[node] = min(lowlink[node], index_of[child])
                continue
            for child in children:
                if child in on_stack:
                    lowlink[node] = min(lowlink[node], lowlink[child])
            if lowlink[node] == index_of[node]:
                components.append(_pop_component(node, stack, on_stack))
    return components


def _pop_component(node: str, stack: list[str], on_stack: set[str]) -> set[str]:
    component = set()
    while True:
        member = stack.pop()
        on_stack.discard(member)
        component.add(member)
        if member == node:
            return component


def _cycle_through(start: str, component: set[str], dependencies: dict[str, list[str]]) -> list[str]:
    """A path start -> ... -> start following "runs before" edges inside the component."""
    runs_before = {
        step: [other for other in dependencies if step in dependencies[other] and other in component]
        for step in component
    }
    path = [start]
    visited = {start}
    while True:
        options = runs_before[path[-1]]
        if start in options:
            return path + [start]
        next_step = next((o for o in options if o not in visited), None)
        if next_step is None:  # dead end inside the component: back up and try elsewhere
            path.pop()
            if not path:
                return [start, start]
            continue
        visited.add(next_step)
        path.append(next_step)
