"""A workflow graph as a Mermaid flowchart (renders in a ```mermaid block on GitHub and GitLab).

Nodes and resources get generated identifiers (``n0``, ``r0``); ids, names and labels from
the workflow appear only inside quoted labels, where every character Mermaid could read as
syntax is written as an entity code ``#<decimal>;``: anything but letters, digits, spaces and
``_.,:/()=+*'!?-→`` (so quotes, ``#``, ``&``, ``<``, ``>``, ``%``, backticks, pipes, brackets,
line breaks and characters that are not printable).
"""

from __future__ import annotations

from .model import GraphNode, GraphResource, WorkflowGraph

_SAFE_PUNCTUATION = frozenset(" _.,:/()=+*'!?-→")
LINE_BREAK = "<br/>"


def to_mermaid(graph: WorkflowGraph) -> str:
    lines = ["flowchart TD"]
    lines += [f'    {node.key}["{node_label(node)}"]' for node in graph.nodes]
    lines += [f'    {resource.key}[("{resource_label(resource)}")]' for resource in graph.resources]
    for edge in graph.edges:
        if edge.uses_resource:
            lines.append(f"    {edge.source} -.-> {edge.target}")
        else:
            lines.append(f'    {edge.source} -->|"{escape(edge.label)}"| {edge.target}')
    if graph.resources:
        lines.append("    classDef resource stroke-dasharray: 4 3")
        lines.append(f"    class {','.join(r.key for r in graph.resources)} resource")
    return "\n".join(lines) + "\n"


def node_label(node: GraphNode) -> str:
    parts = [node.node_id, node.kind]
    if node.patterns:
        parts.append(", ".join(node.patterns))
    return LINE_BREAK.join(escape(part) for part in parts)


def resource_label(resource: GraphResource) -> str:
    return LINE_BREAK.join(escape(part) for part in (resource.name, f"{resource.kind} resource"))


def escape(text: str) -> str:
    """``text`` safe inside a quoted Mermaid label: letters, digits and plain punctuation as they are."""
    return "".join(
        char if (char.isalnum() and char.isprintable()) or char in _SAFE_PUNCTUATION else f"#{ord(char)};"
        for char in text
    )
