"""Analysis: the IR becomes a render plan. Every error about the workflow is found here or earlier.

Nothing here assumes the compile target: the plan says which node runs after which, what
each node reads and from where, and which identifiers and imports the module needs.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .. import codeblock
from ..errors import CodeLine, WorkflowError
from ..ir import NodeIR, WorkflowIR
from ..source_text import split_lines
from ..workflow.graph import check_graph, topological_order
from .names import (
    AUTO_IMPORT_MODULES,
    BUILTIN_NAMES,
    MODULE_DUNDERS,
    RESERVED,
    imported_names,
    module_identifier,
    node_identifier,
    top_level_bindings,
)

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
    modules: tuple[str, ...] = ()  # standard-library modules used without import
    imports: tuple[str, ...] = ()  # import lines the node needs at module top
    module_names: tuple[str, ...] = ()  # module-level names the node defines besides its function
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
    strict: bool
    imported: frozenset[str] = frozenset()  # names the module imports at top level anyway


KindPlanner = Callable[[NodeScope], NodePlan]
PLANNERS: dict[str, KindPlanner] = {}


def planner(kind: str) -> Callable[[KindPlanner], KindPlanner]:
    """Register the planner of a node kind."""

    def register(fn: KindPlanner) -> KindPlanner:
        PLANNERS[kind] = fn
        return fn

    return register


def analyse(ir: WorkflowIR, *, strict: bool = False) -> ModulePlan:
    check_graph(ir)
    order = topological_order(ir)
    bindings, imported, block = _module_bindings(ir)
    idents = _identifiers(ir, bindings)
    resources = {r.name for r in ir.resources}
    incoming: dict[str, list[Param]] = {}
    for c in ir.connections:
        incoming.setdefault(c.to_node, []).append(Param(c.to_input, "connection", c.from_node, c.from_output))
    plans: list[NodePlan] = []
    for node in ir.nodes:
        _check_required_resources(node, resources)
        _check_resource_literals(node, resources)
        connected = list(incoming.get(node.node_id, []))
        kind_planner = PLANNERS.get(node.kind)
        if kind_planner is None:
            raise WorkflowError(f"node kind {node.kind!r} cannot be compiled", location=node.location)
        scope = NodeScope(node, idents[node.node_id], connected, resources, strict, frozenset(imported))
        plans.append(kind_planner(scope))
    _check_module_names(plans)
    needed = {p.from_node for plan in plans for p in plan.params if p.from_node is not None}
    handles = _handles({p.node.node_id: p.ident for p in plans}, needed)
    return ModulePlan(
        ir=ir,
        module_name=module_identifier(ir.name),
        nodes=tuple(plans),
        order=tuple(order),
        modules=tuple(sorted({m for plan in plans for m in plan.modules})),
        imports=tuple(sorted({i for plan in plans for i in plan.imports})),
        handles=handles,
        resources=block,
    )


def bind_names(scope: NodeScope, names: list[str], code: str) -> tuple[list[Param], list[str]]:
    """Bind a code block's free names: connection, builtin, resource, get_resource, module, input.

    Returns the parameters (connections first, in connection order) and the standard-library
    modules to import. Under ``strict`` an input that no connection feeds is an error.
    """
    params = list(scope.connected)
    connected = {p.name for p in params}
    modules: list[str] = []
    for name in names:
        if name in connected or name in BUILTIN_NAMES or name in MODULE_DUNDERS or name in scope.imported:
            continue
        if name in scope.resources:
            params.append(Param(name, "resource"))
        elif name == "get_resource":
            params.append(Param(name, "get_resource"))
        elif name in AUTO_IMPORT_MODULES:
            modules.append(name)
        else:
            if scope.strict:
                raise _unbound(scope, name, code, sorted(connected | scope.resources))
            params.append(Param(name, "input"))
    return params, modules


def _unbound(scope: NodeScope, name: str, code: str, known: list[str]) -> WorkflowError:
    candidates = known + sorted(AUTO_IMPORT_MODULES) + sorted(BUILTIN_NAMES)
    close = difflib.get_close_matches(name, candidates, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    hint += "connect an upstream output to it, declare a resource of that name, or drop --strict to make it an input"
    return WorkflowError(
        f"name {name!r} is not bound: no connection, resource or import provides it",
        location=scope.node.location,
        node_id=scope.node.node_id,
        code_line=_first_use(code, name),
        hint=hint,
    )


def _first_use(code: str, name: str) -> CodeLine | None:
    tree = codeblock.parse(code)
    uses = sorted((n.lineno, n.col_offset) for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == name)
    if not uses:
        return None
    line, column = uses[0]
    line -= 1  # the parse wraps the block in a function
    return CodeLine(line, split_lines(code)[line - 1], codeblock.block_column(code, line, column))


# Kinds whose code block's other top-level statements (imports, helpers) go to module level.
HOISTING_KINDS = frozenset({"parallel_map", "scatter", "scatter_worker"})


def _module_bindings(ir: WorkflowIR) -> tuple[set[str], set[str], ResourceBlock]:
    """Names the module binds at top level besides node functions (imports of retry
    exceptions, hoisted imports and helpers of map code blocks, the resource block), the
    subset of them that import statements bind, and the resource block itself."""
    taken: set[str] = set()
    imported: set[str] = set()
    for node in ir.nodes:
        names = list(node.retry.retry_on) if node.retry else []
        names += [n for n in node.settings.get("retry_on") or [] if isinstance(n, str)]
        imported.update(name.split(".")[0] for name in names if "." in name)
        if node.kind in HOISTING_KINDS:
            taken.update(top_level_bindings(node.code, skip="process_item"))
            imported.update(imported_names(node.code))
    from .resources import resource_block  # imported here: resources.py imports this module

    block = resource_block(ir.resources, ir.name, ir.nodes)
    taken.update(top_level_bindings("\n".join([*block.imports, block.source])))
    imported.update(imported_names("\n".join(block.imports)))
    return taken | imported, imported, block


def _identifiers(ir: WorkflowIR, taken: set[str]) -> dict[str, str]:
    idents: dict[str, str] = {}
    owner: dict[str, str] = {}
    for node in ir.nodes:
        ident = node_identifier(node.node_id, taken)
        if ident in owner:
            raise WorkflowError(
                f"node ids {owner[ident]!r} and {node.node_id!r} both become the Python identifier {ident!r}",
                location=node.location,
                node_id=node.node_id,
                hint="rename one of the two nodes so their ids differ after replacing non-identifier characters",
            )
        owner[ident] = node.node_id
        idents[node.node_id] = ident
    return idents


def _check_module_names(plans: list[NodePlan]) -> None:
    """Helpers and imports a code block puts at module level must not clash with anything else there."""
    owner = {plan.ident: f"the function of node {plan.node.node_id!r}" for plan in plans}
    imported: dict[str, str] = {}  # name -> the import line binding it
    for plan in plans:
        for line in plan.imports:
            for name in top_level_bindings(line):
                clash = owner.get(name) or (f"`{imported[name]}`" if imported.get(name, line) != line else None)
                if clash:
                    raise WorkflowError(
                        f"`{line}` in the code block binds {name!r}, which clashes with {clash}",
                        location=plan.node.location,
                        node_id=plan.node.node_id,
                        hint="import it under another name (import ... as ...)",
                    )
                imported[name] = line
    for plan in plans:
        for name in plan.module_names:
            if name in RESERVED or name in owner or name in imported:
                taken = owner.get(name) or (f"`{imported[name]}`" if name in imported else "a name the module uses")
                raise WorkflowError(
                    f"the code block defines {name!r} at its top level, which clashes with {taken}",
                    location=plan.node.location,
                    node_id=plan.node.node_id,
                    hint="rename the helper in the code block",
                )
            owner[name] = f"a helper of node {plan.node.node_id!r}"


def _check_required_resources(node: NodeIR, declared: set[str]) -> None:
    missing = [name for name in node.required_resources if name not in declared]
    if missing:
        raise WorkflowError(
            f"required resource{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}"
            f" {'are' if len(missing) > 1 else 'is'} not declared",
            location=node.location,
            node_id=node.node_id,
            hint=f"declare it with with_database/with_http_client/with_cache/require_resource"
            f" (declared: {', '.join(sorted(declared)) or 'none'})",
        )


def _check_resource_literals(node: NodeIR, declared: set[str]) -> None:
    for name, line, column in codeblock.resource_literals(node.code) if node.code else ():
        if name not in declared:
            raise WorkflowError(
                f"get_resource({name!r}): no resource of that name is declared",
                location=node.location,
                node_id=node.node_id,
                code_line=CodeLine(
                    line, split_lines(node.code)[line - 1], codeblock.block_column(node.code, line, column)
                ),
                hint=f"declare it with with_database/with_http_client/with_cache/require_resource"
                f" (declared: {', '.join(sorted(declared)) or 'none'})",
            )


def _handles(idents: dict[str, str], needed: set[str]) -> dict[str, str]:
    taken = set(idents.values())
    handles: dict[str, str] = {}
    for node_id, ident in idents.items():
        if node_id not in needed:
            continue
        handle = f"{ident}_out"
        while handle in taken:
            handle += "_"
        taken.add(handle)
        handles[node_id] = handle
    return handles
