"""Graph checks and ordering over the IR: unknown nodes, doubly connected inputs, cycles."""

from __future__ import annotations

import heapq
import weakref

from ..errors import WorkflowError
from ..ir import Location, WorkflowIR

# The order of each IR checked in this process, by the IR's identity, kept while the IR lives:
# an IR is frozen, and building a workflow checks its graph that compiling it checks again.
_checked: dict[int, tuple[str, ...]] = {}


def check_graph(ir: WorkflowIR) -> list[str]:
    """The node ids in topological order (``topological_order``), once the graph is checked:
    every connection names known nodes and feeds an input no other connection feeds."""
    order = _checked.get(id(ir))
    if order is None:
        order = _checked[id(ir)] = tuple(_checked_order(ir))
        weakref.finalize(ir, _checked.pop, id(ir), None)
    return list(order)


def _checked_order(ir: WorkflowIR) -> list[str]:
    known = {node.node_id for node in ir.nodes}
    fed: dict[tuple[str, str], str] = {}
    for connection in ir.connections:
        for end in (connection.from_node, connection.to_node):
            if end not in known:
                raise WorkflowError(
                    f"connection {connection.from_node!r} -> {connection.to_node!r} names unknown node {end!r}",
                    location=connection.location,
                    node_id=end,
                    hint=f"known nodes: {', '.join(map(repr, sorted(known))) or 'none'}; add the node first",
                )
        target = (connection.to_node, connection.to_input)
        if target in fed:
            raise WorkflowError(
                f"input {connection.to_input!r} is connected twice (from {fed[target]!r} and {connection.from_node!r})",
                location=connection.location,
                node_id=connection.to_node,
                hint="connect each input of a node from one place only",
            )
        fed[target] = connection.from_node
    return topological_order(ir)


def topological_order(ir: WorkflowIR) -> list[str]:
    """Node ids in dependency order, ties broken by builder order; a cycle is an error naming it."""
    position = {node.node_id: index for index, node in enumerate(ir.nodes)}
    downstream: dict[str, list[str]] = {node_id: [] for node_id in position}
    waiting = dict.fromkeys(position, 0)
    for connection in ir.connections:
        if connection.to_node not in downstream[connection.from_node]:
            downstream[connection.from_node].append(connection.to_node)
            waiting[connection.to_node] += 1
    ready = [(position[n], n) for n, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, node_id = heapq.heappop(ready)
        order.append(node_id)
        for down in downstream[node_id]:
            waiting[down] -= 1
            if waiting[down] == 0:
                heapq.heappush(ready, (position[down], down))
    if len(order) < len(position):
        cycle = _find_cycle(ir, set(position) - set(order))
        raise WorkflowError(
            f"the connections form a cycle: {' -> '.join([*cycle, cycle[0]])}",
            location=_cycle_location(ir, cycle),
            node_id=cycle[0],
            hint="a workflow is a DAG; remove one of these connections",
        )
    return order


def _find_cycle(ir: WorkflowIR, unsorted: set[str]) -> list[str]:
    """A cycle among the nodes a topological sort could not place, in connection direction.

    Every such node has a predecessor among them, so walking predecessors must repeat a node.
    """
    predecessor: dict[str, str] = {}
    for connection in ir.connections:
        if connection.to_node in unsorted and connection.from_node in unsorted:
            predecessor.setdefault(connection.to_node, connection.from_node)
    node = min(unsorted, key=[n.node_id for n in ir.nodes].index)
    walked: list[str] = []
    while node not in walked:
        walked.append(node)
        node = predecessor[node]
    cycle = walked[walked.index(node) :]
    cycle.reverse()
    first = cycle.index(min(cycle, key=[n.node_id for n in ir.nodes].index))
    return cycle[first:] + cycle[:first]


def _cycle_location(ir: WorkflowIR, cycle: list[str]) -> Location:
    pairs = set(zip(cycle, [*cycle[1:], cycle[0]], strict=True))
    for connection in ir.connections:
        if (connection.from_node, connection.to_node) in pairs:
            return connection.location
    return ir.node(cycle[0]).location
