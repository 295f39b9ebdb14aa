"""The plan: what analysis tells a target about the module to write.

Nothing here assumes the compile target: which node runs after which, what each node reads
and from where, and which identifiers and imports the module needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..errors import WorkflowWarning
from ..ir import NodeIR, WorkflowIR
from .diagnostics import Diagnostics

if TYPE_CHECKING:
    from .resources import ResourceBlock


@dataclass(frozen=True)
class Param:
    """A value a node receives: from a connection, a workflow input, a resource."""

    name: str
    source: str  # "connection" | "input" | "resource" | "get_resource"
    from_node: str | None = None
    from_output: str | None = None  # None: the whole output
    deferred: bool = False  # a resource the node creates only if the function it calls uses it


@dataclass(frozen=True)
class NodePlan:
    node: NodeIR
    ident: str
    params: tuple[Param, ...]  # what run() passes, in call order
    template: str  # the node's template, per kind
    context: dict[str, Any] = field(default_factory=dict)  # kind-specific template values
    modules: tuple[str, ...] = ()  # well-known modules used without import
    imports: tuple[str, ...] = ()  # import lines of the code block, moved to module top
    module_names: tuple[str, ...] = ()  # helpers the code block defines at module level
    functions: tuple[str, ...] = ()  # module-level functions the node defines besides its own
    upstream: tuple[str, ...] = ()

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params if p.source == "input")


@dataclass(frozen=True)
class ModulePlan:
    ir: WorkflowIR
    module_name: str
    nodes: tuple[NodePlan, ...]  # builder order: the order functions appear in the module
    order: tuple[str, ...]  # topological order of node ids: the order run() registers them
    modules: tuple[str, ...]
    imports: tuple[str, ...]
    handles: dict[str, str]  # node id -> local name of its output in run(), for nodes with dependents
    resources: ResourceBlock  # the RESOURCES declaration and what it needs
    warnings: tuple[WorkflowWarning, ...] = ()

    def plan(self, node_id: str) -> NodePlan:
        return self._by_id[node_id]

    @cached_property
    def _by_id(self) -> dict[str, NodePlan]:
        return {p.node.node_id: p for p in self.nodes}


@dataclass
class NodeScope:
    """What a kind planner knows about the node it plans."""

    node: NodeIR
    ident: str
    connected: list[Param]
    resources: set[str]
    strict: bool  # an unbound name is an error, not an input
    idents: Mapping[str, str] = field(default_factory=dict)  # node id -> its function's name
    scatter_functions: Mapping[str, str] = field(default_factory=dict)  # worker prefix -> function name
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    # A stage of a multi-node pattern: the connections into the pattern's entry node, which
    # bind the names the stage's code reads that its own connections do not (a pattern is one step).
    inherited: tuple[Param, ...] = ()


KindPlanner = Callable[[NodeScope], NodePlan]
