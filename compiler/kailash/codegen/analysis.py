"""Analysis: the IR becomes a render plan. Every error about the workflow is found here or earlier.

Nothing here assumes the compile target: the plan says which node runs after which, what
each node reads and from where, and which identifiers and imports the module needs.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from .. import codeblock
from ..errors import CodeLine, WorkflowError, WorkflowWarning
from ..ir import NodeIR, WorkflowIR
from ..source_text import split_lines
from ..workflow.graph import check_graph, topological_order
from .diagnostics import Diagnostics, module_use
from .exception_imports import exception_imports
from .names import (
    AUTO_IMPORT_MODULES,
    BUILTIN_NAMES,
    MODULE_DUNDERS,
    imported_names,
    module_identifier,
    node_identifier,
    node_identifiers,
    top_level_bindings,
)
from .namespace import check_globals, check_module_names

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
PLANNERS: dict[str, KindPlanner] = {}
ENTRY_SETTINGS: dict[str, str] = {}  # stage kind -> the setting holding its pattern's entry node id
_Planner = TypeVar("_Planner", bound=KindPlanner)


def planner(kind: str, *, entry_setting: str | None = None) -> Callable[[_Planner], _Planner]:
    """Register the planner of a node kind; ``entry_setting`` names the setting of a pattern
    stage that holds the id of the pattern's entry node (whose connections the stage inherits)."""

    def register(fn: _Planner) -> _Planner:
        PLANNERS[kind] = fn
        if entry_setting is not None:
            ENTRY_SETTINGS[kind] = entry_setting
        return fn

    return register


def analyse(ir: WorkflowIR, *, strict: bool = False) -> ModulePlan:
    check_graph(ir)
    order = topological_order(ir)
    retry_imports = {node.node_id: exception_imports(node) for node in ir.nodes}
    taken, block = _module_bindings(ir, retry_imports)
    idents = node_identifiers((node.node_id for node in ir.nodes), taken)
    scatter_functions = _scatter_functions(ir, taken | set(idents.values()))
    diagnostics = Diagnostics(strict)
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
        scope = NodeScope(
            node, idents[node.node_id], connected, resources, strict, idents, scatter_functions, diagnostics
        )
        if node.kind in ENTRY_SETTINGS:
            scope.inherited = tuple(incoming.get(node.settings[ENTRY_SETTINGS[node.kind]], []))
        plans.append(kind_planner(scope))
    owners = check_module_names(plans, block, retry_imports)
    check_globals(plans, owners)
    needed = {p.from_node for plan in plans for p in plan.params if p.from_node is not None}
    handles = _handles({p.node.node_id: p.ident for p in plans}, needed)
    return ModulePlan(
        ir=ir,
        module_name=module_identifier(ir.name),
        nodes=tuple(plans),
        order=tuple(order),
        modules=tuple(sorted({m for plan in plans for m in plan.modules})),
        imports=tuple(sorted({line for plan in plans for line in (*plan.imports, *retry_imports[plan.node.node_id])})),
        handles=handles,
        resources=block,
        warnings=tuple(diagnostics.warnings),
    )


def bind_names(scope: NodeScope, names: list[str], code: str, *, warn: bool = True) -> tuple[list[Param], list[str]]:
    """Bind a code block's free names: connection (the node's own, then its pattern entry
    node's), builtin, resource, get_resource, module, input.

    Returns the parameters (connections first, in connection order) and the well-known
    modules to import. Under ``strict`` an input that no connection feeds is an error. An
    input the code reads as an importable module (``yaml.safe_load``) is a warning that the
    code lacks its import (``warn``: the code is this node's own, not planned elsewhere too).
    """
    params = list(scope.connected)
    connected = {p.name for p in params}
    inherited = {p.name: p for p in scope.inherited if p.name not in connected}
    modules: list[str] = []
    for name in names:
        if name in inherited:
            params.append(inherited[name])
            continue
        if name in connected or name in BUILTIN_NAMES or name in MODULE_DUNDERS:
            continue
        if name in scope.resources:
            params.append(Param(name, "resource"))
        elif name == "get_resource":
            params.append(Param(name, "get_resource"))
        elif name in AUTO_IMPORT_MODULES:
            modules.append(name)
        else:
            use = module_use(name, code) if warn or scope.strict else None
            if use is not None:
                consequence = "" if scope.diagnostics.strict else f", so {name!r} is a workflow input"
                scope.diagnostics.warn(
                    scope.node,
                    f"the code uses the module {name!r} but does not import it{consequence}",
                    code_line=use,
                    hint=f"add `import {name}` to the code block (or, if {name!r} is meant as an input,"
                    " give it a name no module has)",
                )
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


def _module_bindings(ir: WorkflowIR, retry_imports: dict[str, tuple[str, ...]]) -> tuple[set[str], ResourceBlock]:
    """Names the module binds at top level besides node functions (``retry_imports`` of retry
    exceptions, hoisted imports and helpers of map code blocks, the resource block), and the
    resource block itself."""
    taken: set[str] = set()
    for node in ir.nodes:
        taken.update(name for line in retry_imports[node.node_id] for name in imported_names(line))
        if node.kind in HOISTING_KINDS:
            taken.update(top_level_bindings(node.code, skip="process_item"))
    from .resources import resource_block  # imported here: resources.py imports this module

    block = resource_block(ir.resources, ir.name, ir.nodes)
    taken.update(top_level_bindings("\n".join([*block.imports, block.source])))
    return taken, block


def _scatter_functions(ir: WorkflowIR, taken: set[str]) -> dict[str, str]:
    """worker prefix -> the name of the scatter-gather function its stages share, which shadows
    no other module-level name."""
    functions: dict[str, str] = {}
    for node in ir.nodes:
        if node.kind == "scatter":
            prefix = node.settings["worker_prefix"]
            functions[prefix] = node_identifier(prefix, taken)
            taken = taken | {functions[prefix]}
    return functions


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
