"""The paths through an interactive cut, and what is wrong with them.

A shot with choices leads to each choice's target; a shot without choices
plays on into the next shot in order; a shot with neither is an ending. The
first shot is where every viewer starts.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

Node = Hashable


@dataclass
class PathMap:
    start: Node | None
    edges: dict[Node, list[Node]]
    endings: list[Node] = field(default_factory=list)
    unreachable: list[Node] = field(default_factory=list)
    # Shots on a loop, and the loops themselves (each a list of shots).
    cycles: list[list[Node]] = field(default_factory=list)
    # Shots from which no ending can be reached: a viewer would be stuck.
    trapped: list[Node] = field(default_factory=list)
    # (shot, choice label) pairs whose target no longer exists.
    broken: list[tuple[Node, str]] = field(default_factory=list)

    @property
    def in_cycle(self) -> set[Node]:
        return {node for cycle in self.cycles for node in cycle}

    @property
    def ok(self) -> bool:
        return not (self.unreachable or self.trapped or self.broken)


def edges_of(
    order: Sequence[Node], choices: Mapping[Node, Sequence[tuple[str, Node | None]]]
) -> tuple[dict[Node, list[Node]], list[tuple[Node, str]]]:
    """Each shot's successors, and the choices that lead nowhere."""
    edges: dict[Node, list[Node]] = {}
    broken: list[tuple[Node, str]] = []
    known = set(order)
    for index, node in enumerate(order):
        options = choices.get(node) or []
        if options:
            targets = []
            for label, target in options:
                if target is None or target not in known:
                    broken.append((node, label))
                elif target not in targets:
                    targets.append(target)
            edges[node] = targets
        else:
            edges[node] = [order[index + 1]] if index + 1 < len(order) else []
    return edges, broken


def _reachable(start: Node, edges: Mapping[Node, Sequence[Node]]) -> list[Node]:
    seen, stack = [start], [start]
    while stack:
        for target in edges[stack.pop()]:
            if target not in seen:
                seen.append(target)
                stack.append(target)
    return seen


def _cycles(order: Sequence[Node], edges: Mapping[Node, Sequence[Node]]) -> list:
    """Strongly connected components that loop (Tarjan, iterative)."""
    index: dict[Node, int] = {}
    low: dict[Node, int] = {}
    on_stack: set[Node] = set()
    stack: list[Node] = []
    found: list[list[Node]] = []
    counter = 0
    for root in order:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = edges[node]
            if i < len(successors):
                work.append((node, i + 1))
                target = successors[i]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in successors:
                    found.append(sorted(component, key=list(order).index))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted(found, key=lambda c: list(order).index(c[0]))


def path_map(
    order: Sequence[Node], choices: Mapping[Node, Sequence[tuple[str, Node | None]]]
) -> PathMap:
    """Analyse the cut: endings, unreachable shots, loops, traps, broken choices.

    ``order`` lists the shots in storyboard order; ``choices`` maps a shot to
    its (label, target) pairs, a target of None meaning it was deleted.
    """
    edges, broken = edges_of(order, choices)
    if not order:
        return PathMap(start=None, edges=edges)
    start = order[0]
    reached = set(_reachable(start, edges))
    endings = [node for node in order if not edges[node]]
    # Walk backwards from the endings: whoever cannot get there is trapped.
    reverse: dict[Node, list[Node]] = {node: [] for node in order}
    for node, targets in edges.items():
        for target in targets:
            reverse[target].append(node)
    can_end = set()
    for ending in endings:
        can_end.update(_reachable(ending, reverse))
    return PathMap(
        start=start,
        edges=edges,
        endings=endings,
        unreachable=[node for node in order if node not in reached],
        cycles=_cycles(order, edges),
        trapped=[node for node in order if node in reached and node not in can_end],
        broken=broken,
    )
