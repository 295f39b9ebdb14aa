"""Workflow: the built, frozen result of a builder."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..ir import ConnectionIR, NodeIR, WorkflowIR

if TYPE_CHECKING:
    from .builder import WorkflowBuilder


class Workflow:
    """A built workflow: ``.name``, ``.nodes``, ``.connections``, ``.metadata``, ``.ir``."""

    def __init__(self, ir: WorkflowIR, *, builder: WorkflowBuilder, required_resources: list[str]) -> None:
        self.ir = ir
        self.builder = builder
        self.name = ir.name
        self.nodes: dict[str, NodeIR] = {node.node_id: node for node in ir.nodes}
        self.connections: list[ConnectionIR] = list(ir.connections)
        self._required_resources = required_resources

    @cached_property
    def metadata(self) -> dict[str, Any]:
        """The workflow's name, description, required resources and each node's metadata
        (made when first read: a compile never reads it)."""
        from .builder import node_metadata

        return {
            "name": self.ir.name,
            "description": self.ir.description,
            "required_resources": self._required_resources,
            "nodes": {node.node_id: node_metadata(node) for node in self.ir.nodes},
        }

    def __repr__(self) -> str:
        return f"<Workflow {self.name!r}: {len(self.nodes)} nodes>"
