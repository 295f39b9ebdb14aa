"""Pictures of a workflow for review: its graph as Mermaid or Graphviz DOT text.

The graph is read from the target-neutral plan (``kailash.analysis``), never from generated
code: nodes with their kind and patterns, connections with their output -> input mapping,
and resources with the nodes that use them.
"""

from __future__ import annotations

from .dot import to_dot
from .mermaid import to_mermaid
from .model import GraphEdge, GraphNode, GraphResource, WorkflowGraph, resources_used_by_node, workflow_graph

FORMATS = {"mermaid": to_mermaid, "dot": to_dot}

__all__ = [
    "FORMATS",
    "GraphEdge",
    "GraphNode",
    "GraphResource",
    "WorkflowGraph",
    "resources_used_by_node",
    "to_dot",
    "to_mermaid",
    "workflow_graph",
]
