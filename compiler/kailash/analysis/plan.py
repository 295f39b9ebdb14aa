"""The plan: what analysis tells a target about the module to write.

Nothing here assumes the compile target: which node runs after which, what each node reads
and from where, and which identifiers and imports the module needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..errors import WorkflowWarning
from ..ir import DefinitionIR, InputIR, NodeIR, WorkflowIR
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


class Shape(StrEnum):
    """How a node's callable is made; a target writes each shape its own way."""

    PLAIN = "plain"  # the code block as a function
    DECORATED = "decorated"  # the code block as a function, under its pattern
    MAPPED = "mapped"  # process_item as a per-item function, under the map pattern
    FANNED_OUT = "fanned_out"  # process_item under scatter-gather; the node is its scatter stage
    ASSIGNED = "assigned"  # a callable the pattern makes (a pattern stage), no code of its own
    OPERATIONS = "operations"  # one function per named operation, combined by the pattern
    RESOURCE = "resource"  # one operation on a declared resource


@dataclass(frozen=True)
class PatternCall:
    """A pattern applied to a node: its name (``retry_with_backoff``, ``cache_store``, ...), its
    settings as plain values, and, for a stage of a pattern made by another node (a fallback,
    a scatter-gather stage), the function of that node it belongs to."""

    name: str
    settings: tuple[tuple[str, Any], ...] = ()
    of: str | None = None

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.settings)


@dataclass(frozen=True)
class Operation:
    """One named operation of a parallel fetch: its function and code."""

    name: str
    ident: str
    signature: tuple[str, ...]
    code: str
    returns: str  # "result", or "None" when the code never assigns it


@dataclass(frozen=True)
class NodePlan:
    node: NodeIR
    ident: str
    params: tuple[Param, ...]  # what run() passes, in call order
    shape: Shape
    pattern: PatternCall | None = None
    code: str = ""  # the code block the node's function runs (PLAIN, DECORATED)
    returns: str = "result"  # the name the code assigns the output to, or "None"
    signature: tuple[str, ...] | None = None  # the function's parameters, when not the params' names
    preamble: str = ""  # module-level helpers of map code (MAPPED, FANNED_OUT)
    function: str = ""  # process_item as the node's function (MAPPED, FANNED_OUT)
    operations: tuple[Operation, ...] = ()  # OPERATIONS
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
    # Functions, classes and constants of the workflow file its code reads, copied into the
    # module in file and line order (the imports among them are in ``imports``).
    definitions: tuple[DefinitionIR, ...] = ()

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
    declared_inputs: Mapping[str, InputIR] = field(default_factory=dict)  # the workflow's add_input names
    definitions: Mapping[str, DefinitionIR] = field(default_factory=dict)  # of the node's workflow file
    used_definitions: set[DefinitionIR] = field(default_factory=set)  # the ones its code reads (filled in)


KindPlanner = Callable[[NodeScope], NodePlan]
