"""Graph checks and ordering over the IR: unknown nodes, doubly connected inputs, cycles."""

from __future__ import annotations

import heapq

from ..errors import WorkflowError
from ..ir import WorkflowIR


def check_graph(ir: WorkflowIR) -> None:
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
                f"input {connection.to_input!r} is connected twice (from {fed[target]!r} and"
                f" {connection.from_node!r})",
                location=connection.location,
                node_id=connection.to_node,
                hint="connect each input of a node from one place only",
            )
        fed[target] = connection.from_node
    topological_order(ir)


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
        cycle = _find_cycle({n: d for n, d in downstream.items() if waiting[n] > 0 or n not in order})
        first = ir.node(cycle[0])
        raise WorkflowError(
            f"the connections form a cycle: {' -> '.join(cycle + [cycle[0]])}",
            location=_cycle_location(ir, cycle),
            node_id=first.node_id,
            hint="a workflow is a DAG; remove one of these connections",
        )
    return order


def _find_cycle(graph: dict[str, list[str]]) -> list[str]:
    for start in graph:
        path: list[str] = []
        on_path: set[str] = set()
        visited: set[str] = set()

        def visit(node: str) -> list[str] | None:
            path.append(node)
            on_path.add(node)
            visited.add(node)
            for nxt in graph.get(node, []):
                if nxt in on_path:
                    return path[path.index(nxt) :]
                if nxt not in visited and nxt in graph:
                    found = visit(nxt)
                    if found:
                        return found
            path.pop()
            on_path.discard(node)
            return None

        found = visit(start)
        if found:
            return found
    raise AssertionError("no cycle found in a graph that failed to sort")


def _cycle_location(ir: WorkflowIR, cycle: list[str]):  # type: ignore[no-untyped-def]
    pairs = set(zip(cycle, cycle[1:] + cycle[:1], strict=True))
    for connection in ir.connections:
        if (connection.from_node, connection.to_node) in pairs:
            return connection.location
    return ir.node(cycle[0]).location
