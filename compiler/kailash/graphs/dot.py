"""A workflow graph as Graphviz DOT (``dot -Tsvg``).

Nodes and resources get generated identifiers (``n0``, ``r0``); ids, names and labels from
the workflow appear only in double-quoted attribute values, where a quote and a backslash
are escaped with a backslash (so ``\\n`` in an id is text, not a line break), ``&`` and
every character that is not printable are HTML entities (``&#10;``), which Graphviz shows
as the character itself.
"""

from __future__ import annotations

from .model import GraphNode, GraphResource, WorkflowGraph


def to_dot(graph: WorkflowGraph) -> str:
    lines = [
        "digraph workflow {",
        f'    graph [label="{escape(graph.name)}", labelloc="t", rankdir="TB"];',
        '    node [shape="box"];',
    ]
    lines += [f'    {node.key} [label="{node_label(node)}"];' for node in graph.nodes]
    lines += [
        f'    {resource.key} [label="{resource_label(resource)}", shape="cylinder"];' for resource in graph.resources
    ]
    for edge in graph.edges:
        if edge.uses_resource:
            lines.append(f'    {edge.source} -> {edge.target} [style="dashed", arrowhead="none"];')
        else:
            lines.append(f'    {edge.source} -> {edge.target} [label="{escape(edge.label)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def node_label(node: GraphNode) -> str:
    parts = [node.node_id, node.kind]
    if node.patterns:
        parts.append(", ".join(node.patterns))
    return "\\n".join(escape(part) for part in parts)


def resource_label(resource: GraphResource) -> str:
    return "\\n".join(escape(part) for part in (resource.name, f"{resource.kind} resource"))


def escape(text: str) -> str:
    """``text`` inside a double-quoted DOT string, shown as it is."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "&" or not char.isprintable():
            out.append(f"&#{ord(char)};")
        else:
            out.append(char)
    return "".join(out)
