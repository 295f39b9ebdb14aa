"""The graph of a workflow as a reviewer reads it, taken from the analysis plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import codeblock
from ..analysis.plan import ModulePlan, NodePlan
from ..ir import NodeIR
from ..settings import ParallelFetchSettings, settings_of


@dataclass(frozen=True)
class GraphNode:
    key: str  # the identifier the picture uses: n0, n1, ... in builder order
    node_id: str
    kind: str
    patterns: tuple[str, ...]  # "retry 3 attempts", "timeout 5s", "map width 10", ...


@dataclass(frozen=True)
class GraphResource:
    key: str  # r0, r1, ... in declaration order
    name: str
    kind: str  # "postgres", "http", "cache", "factory"


@dataclass(frozen=True)
class GraphEdge:
    source: str  # a node's or resource's key
    target: str  # a node's key
    label: str  # "output → input" for a connection; "" for a resource a node uses

    @property
    def uses_resource(self) -> bool:
        return self.source.startswith("r")


@dataclass(frozen=True)
class WorkflowGraph:
    name: str
    nodes: tuple[GraphNode, ...]
    resources: tuple[GraphResource, ...]
    edges: tuple[GraphEdge, ...]  # connections in builder order, then resource uses


def workflow_graph(plan: ModulePlan) -> WorkflowGraph:
    """Nodes in builder order, connections in builder order, then each node's resources."""
    node_keys = {p.node.node_id: f"n{index}" for index, p in enumerate(plan.nodes)}
    resource_keys = {r.name: f"r{index}" for index, r in enumerate(plan.ir.resources)}
    nodes = tuple(GraphNode(node_keys[p.node.node_id], p.node.node_id, p.node.kind, patterns(p)) for p in plan.nodes)
    resources = tuple(GraphResource(resource_keys[r.name], r.name, r.kind) for r in plan.ir.resources)
    edges = [
        GraphEdge(node_keys[c.from_node], node_keys[c.to_node], f"{c.from_output} → {c.to_input}")
        for c in plan.ir.connections
    ]
    for node_plan in plan.nodes:
        for name in resources_used_by_node(node_plan):
            if name in resource_keys:
                edges.append(GraphEdge(resource_keys[name], node_keys[node_plan.node.node_id], ""))
    return WorkflowGraph(plan.ir.name, nodes, resources, tuple(edges))


def resources_used_by_node(plan: NodePlan) -> list[str]:
    """Declared resources the node receives, requires, or names in ``get_resource("...")``, in that order."""
    names = [p.name for p in plan.params if p.source == "resource"]
    names += plan.node.required_resources
    for code in _code_blocks(plan.node):
        names += [name for name, _, _ in codeblock.resource_literals(code)]
    return list(dict.fromkeys(names))


def _code_blocks(node: NodeIR) -> list[str]:
    blocks = [node.code] if node.code else []
    if node.kind == "parallel_fetch":
        blocks += settings_of(node, ParallelFetchSettings).operations.values()
    elif node.kind == "timeout_primary" and node.settings.get("fallback_code"):
        blocks.append(node.settings["fallback_code"])
    return blocks


def patterns(plan: NodePlan) -> tuple[str, ...]:
    """What wraps the node's work, in words: its pattern, then its policies."""
    node = plan.node
    shown: list[str] = []
    if plan.pattern is not None:
        described = _pattern(plan.pattern.name, plan.pattern.values, plan)
        if described:
            shown.append(described)
    if node.retry is not None:
        shown.append(f"retry {node.retry.attempts - 1} times")
    if node.timeout is not None:
        shown.append(f"timeout {_number(node.timeout)}s")
    if node.max_concurrent_tasks is not None:
        shown.append(f"limiter {node.max_concurrent_tasks} at a time")
    if node.fallback is not None:
        shown.append("fallback value")
    return tuple(shown)


def _pattern(name: str, values: dict[str, Any], plan: NodePlan) -> str:
    node = plan.node
    if node.kind == "resource":
        return f"{plan.pattern.of if plan.pattern else ''}.{name}"
    match name:
        case "retry_with_backoff":
            return f"retry {values.get('max_retries', 3)} times"
        case "rate_limited":
            return f"limiter {_number(values.get('requests_per_second', 10))}/s"
        case "circuit_breaker":
            return (
                f"breaker after {values.get('failure_threshold', 5)} failures,"
                f" reset {_number(values.get('reset_timeout', 60.0))}s"
            )
        case "batch_processor":
            return f"batches of {values.get('batch_size', 100)}"
        case "timeout_with_fallback":
            return f"timeout {_number(values['timeout_seconds'])}s, fallback {node.settings.get('fallback_id', '')}"
        case "fallback":
            return f"fallback of {node.settings.get('primary_id', '')}"
        case "parallel_map":
            return f"map width {values.get('max_workers', 10)}"
        case "scatter_gather":
            return f"scatter over {values['worker_count']} workers"
        case "scatter_gather_stage":
            return f"scatter-gather {values['stage']} stage"
        case "parallel_fetch":
            count = len(settings_of(node, ParallelFetchSettings).operations)
            return f"parallel fetch of {count}, timeout {_number(values['timeout_per_operation'])}s each"
        case "cache_check" | "cache_store":
            ttl = f", ttl {values['ttl_seconds']}s" if "ttl_seconds" in values else ""
            return f"{name.replace('_', ' ')} on {values['cache']}{ttl}"
        case "cache_fetch":
            return "cache fetch on a miss"
    return name


def _number(value: float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() and abs(value) < 1e15 else str(value)
